package processnode

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	_ "embed"
)

// Image is what an image reference stands for on a process node. There are no layers to pull:
// an image is a set of host paths mounted into the container's root file system (on top of the
// host's /usr, /etc and friends, see hostBaseMounts) plus the image's config (ENV, ENTRYPOINT,
// CMD, WORKDIR), as in an OCI image config.
type Image struct {
	// ID is reported as the container status' imageID, e.g. "processnode://spark/3.5.3".
	ID         string
	Mounts     []Mount
	HostPaths  []string // host directories mounted read-only at the same path (a Python install)
	Env        []string // KEY=VALUE, overridden by the container's env
	Entrypoint []string
	Cmd        []string
	WorkingDir string
}

// ImageConfig says which images a process node can "pull".
type ImageConfig struct {
	// SparkHomes maps a Spark version ("3.5.3") to a Spark distribution on the host: a directory
	// with bin/spark-submit and jars/ (the pyspark package's directory is one). An image whose
	// repository's last path element is "spark" or "spark-py" (spark:3.5.3, apache/spark:4.0.1-python3,
	// docker.io/library/spark:3.5.3-scala2.12-java17-ubuntu) resolves to the home of the version in
	// its tag, or else to the newest home of the same major.minor version.
	SparkHomes map[string]string
	// SparkExamplesJars maps a Spark version to a jar mounted at
	// /opt/spark/examples/jars/spark-examples.jar in that version's images (the pyspark package
	// ships no examples jar; the e2e test compiles one).
	SparkExamplesJars map[string]string
	// Binaries maps an image repository pattern (path.Match syntax, matched against the reference
	// without its tag or digest, and against its last path element when the pattern has no "/",
	// e.g. "spark-operator") to a host executable that becomes the image's entrypoint, mounted at
	// /processnode/bin/<name>.
	Binaries map[string]string
	// HostImages are repository patterns (as for Binaries) of images that run their command on
	// the host's programs as they are (busybox-style utility images).
	HostImages []string
	// JavaHome is the JAVA_HOME given to Spark images; empty means the host's `java` on PATH.
	JavaHome string
	// Python is the Python 3 interpreter put on the PATH of Spark images as python3; empty
	// means the host's `python3` on PATH.
	Python string
}

//go:embed entrypoint.sh
var sparkEntrypoint []byte

// sparkDecom is the Spark image's /opt/decom.sh: the executor's preStop hook when decommissioning.
//
//go:embed decom.sh
var sparkDecom []byte

// ErrImageNotFound is wrapped by Resolve for an image the process node does not have.
var ErrImageNotFound = fmt.Errorf("image not available on this process node")

// imageStore resolves image references; it writes the files images need (Spark's entrypoint)
// under dir once.
type imageStore struct {
	cfg       ImageConfig
	dir       string
	javaHome  string
	pythonBin string // directory holding python3, put first on PATH
	pythonDir string // installation prefix to mount, empty when under /usr
}

var sparkTagVersion = regexp.MustCompile(`^v?(\d+)\.(\d+)(?:\.(\d+))?`)

func newImageStore(cfg ImageConfig, dir string) (*imageStore, error) {
	s := &imageStore{cfg: cfg, dir: dir}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "entrypoint.sh"), sparkEntrypoint, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "decom.sh"), sparkDecom, 0o755); err != nil {
		return nil, err
	}
	if len(cfg.SparkHomes) == 0 {
		return s, nil
	}
	s.javaHome = cfg.JavaHome
	if s.javaHome == "" {
		java, err := exec.LookPath("java")
		if err != nil {
			return nil, fmt.Errorf("spark images need Java: %w", err)
		}
		real, err := filepath.EvalSymlinks(java)
		if err != nil {
			return nil, err
		}
		s.javaHome = filepath.Dir(filepath.Dir(real))
	}
	python := cfg.Python
	if python == "" {
		python = "python3"
	}
	out, err := exec.Command(python, "-c", "import sys; print(sys.executable); print(sys.prefix)").Output()
	if err != nil {
		return nil, fmt.Errorf("spark images need Python 3 (%s): %w", python, err)
	}
	lines := strings.Fields(string(out))
	if len(lines) != 2 {
		return nil, fmt.Errorf("unexpected answer from %s: %q", python, out)
	}
	exe, _ := filepath.EvalSymlinks(lines[0])
	s.pythonBin = filepath.Dir(exe)
	if prefix := lines[1]; !strings.HasPrefix(prefix, "/usr/") && prefix != "/usr" {
		s.pythonDir = prefix
	}
	return s, nil
}

// Resolve returns the image for ref, or an error wrapping ErrImageNotFound.
func (s *imageStore) Resolve(ref string) (*Image, error) {
	repo, tag := splitImageRef(ref)
	name := path.Base(repo)
	if name == "spark" || name == "spark-py" {
		if home, version, ok := s.sparkHome(tag); ok {
			return s.sparkImage(home, version), nil
		}
	}
	for pattern, bin := range s.cfg.Binaries {
		if matchRepo(pattern, repo) {
			target := "/processnode/bin/" + filepath.Base(bin)
			return &Image{
				ID:         "processnode://binary/" + filepath.Base(bin),
				Mounts:     []Mount{{Kind: "bind", Source: bin, Target: target, ReadOnly: true}},
				Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
				Entrypoint: []string{target},
				WorkingDir: "/",
			}, nil
		}
	}
	for _, pattern := range s.cfg.HostImages {
		if matchRepo(pattern, repo) {
			return &Image{
				ID:         "processnode://host",
				Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
				WorkingDir: "/",
			}, nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrImageNotFound, ref)
}

// matchRepo matches an image repository against a path.Match pattern; a pattern without "/" is
// matched against the repository's last path element too, so "spark-operator" matches
// "ghcr.io/sparkop/spark-operator".
func matchRepo(pattern, repo string) bool {
	if ok, _ := path.Match(pattern, repo); ok {
		return true
	}
	if !strings.Contains(pattern, "/") {
		ok, _ := path.Match(pattern, path.Base(repo))
		return ok
	}
	return false
}

// splitImageRef splits "registry:5000/a/b:tag@sha256:..." into "registry:5000/a/b" and "tag".
func splitImageRef(ref string) (repo, tag string) {
	ref, _, _ = strings.Cut(ref, "@")
	slash := strings.LastIndex(ref, "/")
	if colon := strings.LastIndex(ref, ":"); colon > slash {
		return ref[:colon], ref[colon+1:]
	}
	return ref, "latest"
}

// sparkHome picks the Spark home for an image tag: the exact version, or the newest of the same
// major.minor.
func (s *imageStore) sparkHome(tag string) (home, version string, ok bool) {
	m := sparkTagVersion.FindStringSubmatch(tag)
	if m == nil {
		return "", "", false
	}
	if m[3] != "" {
		v := m[1] + "." + m[2] + "." + m[3]
		if h, ok := s.cfg.SparkHomes[v]; ok {
			return h, v, true
		}
	}
	var candidates []string
	for v := range s.cfg.SparkHomes {
		if strings.HasPrefix(v, m[1]+"."+m[2]+".") || v == m[1]+"."+m[2] {
			candidates = append(candidates, v)
		}
	}
	if len(candidates) == 0 {
		return "", "", false
	}
	sort.Slice(candidates, func(i, j int) bool { return versionLess(candidates[i], candidates[j]) })
	v := candidates[len(candidates)-1]
	return s.cfg.SparkHomes[v], v, true
}

func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if len(pa[i]) != len(pb[i]) {
			return len(pa[i]) < len(pb[i])
		}
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return len(pa) < len(pb)
}

// sparkDistDirs are the directories of a Spark distribution that the stock image has under
// /opt/spark; the pyspark package has them next to its Python modules, which are left out.
var sparkDistDirs = []string{"bin", "sbin", "jars", "python", "data", "licenses", "kubernetes"}

// sparkImage is the stock Spark image (apache/spark-docker) rebuilt from host paths:
// SPARK_HOME=/opt/spark with the distribution's directories, WORKDIR /opt/spark/work-dir,
// ENTRYPOINT /opt/entrypoint.sh (entrypoint.sh here, following the contract of Spark's), the host's
// Java as JAVA_HOME and its Python 3 first on PATH.
func (s *imageStore) sparkImage(home, version string) *Image {
	img := &Image{
		ID:         "processnode://spark/" + version,
		Entrypoint: []string{"/opt/entrypoint.sh"},
		WorkingDir: "/opt/spark/work-dir",
		Env: []string{
			"PATH=" + strings.Join(slices.Compact([]string{s.pythonBin, s.javaHome + "/bin",
				"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}), ":"),
			"JAVA_HOME=" + s.javaHome,
			"SPARK_HOME=/opt/spark",
			"LANG=C.UTF-8",
		},
	}
	if s.pythonDir != "" {
		img.HostPaths = []string{s.pythonDir}
	}
	for _, d := range sparkDistDirs {
		if st, err := os.Stat(filepath.Join(home, d)); err == nil && st.IsDir() {
			img.Mounts = append(img.Mounts, Mount{Kind: "bind", Source: filepath.Join(home, d), Target: "/opt/spark/" + d, ReadOnly: true})
		}
	}
	if st, err := os.Stat(filepath.Join(home, "examples", "src")); err == nil && st.IsDir() {
		img.Mounts = append(img.Mounts, Mount{Kind: "bind", Source: filepath.Join(home, "examples", "src"), Target: "/opt/spark/examples/src", ReadOnly: true})
	}
	if jar := s.cfg.SparkExamplesJars[version]; jar != "" {
		img.Mounts = append(img.Mounts, Mount{Kind: "bind", Source: jar, Target: "/opt/spark/examples/jars/spark-examples.jar", ReadOnly: true})
	}
	img.Mounts = append(img.Mounts,
		Mount{Kind: "bind", Source: filepath.Join(s.dir, "entrypoint.sh"), Target: "/opt/entrypoint.sh", ReadOnly: true},
		Mount{Kind: "bind", Source: filepath.Join(s.dir, "decom.sh"), Target: "/opt/decom.sh", ReadOnly: true},
		Mount{Kind: "tmpfs", Target: "/opt/spark/work-dir"},
	)
	return img
}
