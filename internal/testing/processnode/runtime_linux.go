package processnode

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// InitArg is the first argument with which the process node re-executes its own binary to become
// a container's init: the child starts in new mount, UTS and PID namespaces, reads its ContainerSpec
// from the file named by the second argument, builds the container's root file system, and execs
// the container's command as PID 1 of its PID namespace. Programs that embed the process node must
// call MaybeRunInit first thing in main (or TestMain).
const InitArg = "__processnode-container-init"

// Mount is one mount of a container's root file system, applied in order by the container init.
// Target is a path inside the container. Kinds: "bind" (Source is a host file or directory;
// Recursive binds submounts too), "tmpfs" and "proc" (Source unused).
type Mount struct {
	Kind      string `json:"kind"`
	Source    string `json:"source,omitempty"`
	Target    string `json:"target"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
	Recursive bool   `json:"recursive,omitempty"`
	// Symlink, when set, makes Target a symbolic link to this value instead of a mount (for the
	// merged-/usr layout, where /bin is a link to usr/bin).
	Symlink string `json:"symlink,omitempty"`
}

// ContainerSpec is everything the container init needs: Root is an empty host directory on which
// it mounts a tmpfs that becomes the container's "/"; Mounts are applied on top of it in order
// (parents before children); then it sets the host name, chroots, changes to Dir (created when
// missing, as container runtimes do) and execs Argv[0], looked up in the PATH of Env.
type ContainerSpec struct {
	Root     string   `json:"root"`
	Hostname string   `json:"hostname"`
	Mounts   []Mount  `json:"mounts"`
	Dir      string   `json:"dir"`
	Env      []string `json:"env"`
	Argv     []string `json:"argv"`
	// NetNS, when set, is the path of the network namespace (see podNetwork) that the container
	// joins first; otherwise it stays in the process node's.
	NetNS string `json:"netns,omitempty"`
}

// MaybeRunInit runs the container init and never returns when os.Args[1] is InitArg; otherwise it
// returns at once.
func MaybeRunInit() {
	if len(os.Args) < 3 || os.Args[1] != InitArg {
		return
	}
	code := 0
	if err := runInit(os.Args[2]); err != nil {
		// Like a container runtime's start error: the message is the container's only output and
		// the exit code is 128 (kubelet reports StartError).
		fmt.Fprintf(os.Stderr, "processnode: cannot start container: %v\n", err)
		code = 128
	}
	os.Exit(code)
}

// containerCommand returns the command that starts a container from the spec file path.
func containerCommand(self, specPath string) *exec.Cmd {
	cmd := exec.Command(self, InitArg, specPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS | syscall.CLONE_NEWPID,
		// Kill the container if the process node dies: its PID 1 takes the rest with it. The
		// kernel sends this when the thread that forked the child ends, so container.start
		// forks from a thread locked for the child's whole life.
		Pdeathsig: syscall.SIGKILL,
	}
	return cmd
}

func runInit(specPath string) error {
	data, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	var spec ContainerSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("reading %s: %w", specPath, err)
	}
	if len(spec.Argv) == 0 {
		return fmt.Errorf("no command: the container has no command and its image no entrypoint")
	}
	if spec.NetNS != "" {
		if err := joinNetNS(spec.NetNS); err != nil {
			return err
		}
	}
	// Nothing mounted here may leak to the host's mount namespace.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making / private: %w", err)
	}
	if err := syscall.Mount("tmpfs", spec.Root, "tmpfs", 0, "mode=0755"); err != nil {
		return fmt.Errorf("mounting the root tmpfs: %w", err)
	}
	for _, m := range spec.Mounts {
		if err := applyMount(spec.Root, m); err != nil {
			return err
		}
	}
	if spec.Hostname != "" {
		if err := syscall.Sethostname([]byte(spec.Hostname)); err != nil {
			return fmt.Errorf("setting the host name: %w", err)
		}
	}
	if err := syscall.Chroot(spec.Root); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	dir := spec.Dir
	if dir == "" {
		dir = "/"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("working directory %s: %w", dir, err)
	}
	if err := os.Chdir(dir); err != nil {
		return fmt.Errorf("working directory %s: %w", dir, err)
	}
	os.Clearenv()
	for _, kv := range spec.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			os.Setenv(k, v)
		}
	}
	path, err := exec.LookPath(spec.Argv[0])
	if err != nil {
		return fmt.Errorf("%s: executable file not found in $PATH", spec.Argv[0])
	}
	if err := syscall.Exec(path, spec.Argv, spec.Env); err != nil {
		return fmt.Errorf("exec %s: %w", path, err)
	}
	return nil
}

// applyMount creates the mount point of m under root (a directory, or an empty file when a file
// is bound) and mounts it.
func applyMount(root string, m Mount) error {
	target := filepath.Join(root, filepath.Clean("/"+m.Target))
	if m.Symlink != "" {
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.Symlink(m.Symlink, target)
	}
	if _, err := os.Lstat(target); err == nil {
		return mountAt(m, target)
	}
	isDir := true
	if m.Kind == "bind" {
		st, err := os.Stat(m.Source)
		if err != nil {
			return fmt.Errorf("mount %s: %w", m.Target, err)
		}
		isDir = st.IsDir()
	}
	if isDir {
		if err := os.MkdirAll(target, 0o755); err != nil {
			return fmt.Errorf("mount point %s: %w", m.Target, err)
		}
	} else {
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return fmt.Errorf("mount point %s: %w", m.Target, err)
		}
		f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("mount point %s: %w", m.Target, err)
		}
		f.Close()
	}
	return mountAt(m, target)
}

// mountAt mounts m at target, an existing host path under the container's root.
func mountAt(m Mount, target string) error {
	switch m.Kind {
	case "bind":
		flags := uintptr(syscall.MS_BIND)
		if m.Recursive {
			flags |= syscall.MS_REC
		}
		if err := syscall.Mount(m.Source, target, "", flags, ""); err != nil {
			return fmt.Errorf("bind mount %s at %s: %w", m.Source, m.Target, err)
		}
		if m.ReadOnly {
			if err := syscall.Mount("", target, "", flags|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
				return fmt.Errorf("read-only remount of %s: %w", m.Target, err)
			}
		}
	case "tmpfs":
		if err := syscall.Mount("tmpfs", target, "tmpfs", 0, "mode=1777"); err != nil {
			return fmt.Errorf("tmpfs at %s: %w", m.Target, err)
		}
	case "proc":
		if err := syscall.Mount("proc", target, "proc", 0, ""); err != nil {
			return fmt.Errorf("proc at %s: %w", m.Target, err)
		}
	default:
		return fmt.Errorf("mount %s: unknown kind %q", m.Target, m.Kind)
	}
	return nil
}

// hostBaseMounts are the host directories every container sees at the same paths: the programs
// and libraries (Java among them) that the images rely on, plus /proc, /dev, /sys, a private /tmp
// and /run. Top-level symbolic links (the merged-/usr layout) are reproduced as links.
func hostBaseMounts(extraHostPaths []string) []Mount {
	var mounts []Mount
	for _, d := range []string{"/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32", "/etc", "/dev", "/sys"} {
		st, err := os.Lstat(d)
		if err != nil {
			continue
		}
		if st.Mode()&os.ModeSymlink != 0 {
			if link, err := os.Readlink(d); err == nil {
				mounts = append(mounts, Mount{Target: d, Symlink: link})
			}
			continue
		}
		mounts = append(mounts, Mount{Kind: "bind", Source: d, Target: d, Recursive: true, ReadOnly: d != "/dev"})
	}
	mounts = append(mounts,
		Mount{Kind: "proc", Target: "/proc"},
		Mount{Kind: "tmpfs", Target: "/tmp"},
		Mount{Kind: "tmpfs", Target: "/run"},
	)
	paths := append([]string(nil), extraHostPaths...)
	sort.Strings(paths)
	for _, p := range paths {
		mounts = append(mounts, Mount{Kind: "bind", Source: p, Target: p, Recursive: true, ReadOnly: true})
	}
	return mounts
}
