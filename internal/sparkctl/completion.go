package sparkctl

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// Shell completion: cobra's `sparkctl completion bash|zsh|fish|powershell` prints the scripts; these
// functions complete application names, namespaces and contexts from the cluster and the kubeconfig.

// completionTimeout bounds the API calls of a completion, so that a slow cluster never hangs the
// shell.
const completionTimeout = 5 * time.Second

// completeAppNames completes SparkApplication names of the namespace.
func completeAppNames(f *Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 && !strings.HasSuffix(cmd.Use, "...") {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return completeNames(cmd.Context(), f, &v1beta2.SparkApplicationList{}, toComplete, args, func(l client.ObjectList) []string {
			var out []string
			for _, a := range l.(*v1beta2.SparkApplicationList).Items {
				out = append(out, a.Name+"\t"+state(&a))
			}
			return out
		})
	}
}

// completeScheduledNames completes ScheduledSparkApplication names of the namespace.
func completeScheduledNames(f *Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return completeNames(cmd.Context(), f, &v1beta2.ScheduledSparkApplicationList{}, toComplete, args, func(l client.ObjectList) []string {
			var out []string
			for _, a := range l.(*v1beta2.ScheduledSparkApplicationList).Items {
				out = append(out, a.Name+"\t"+a.Spec.Schedule)
			}
			return out
		})
	}
}

func completeNames(ctx context.Context, f *Factory, list client.ObjectList, toComplete string, already []string, names func(client.ObjectList) []string) ([]string, cobra.ShellCompDirective) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	c, err := f.Client()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	ns, _, err := f.Namespace()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var out []string
	for _, n := range names(list) {
		name, _, _ := strings.Cut(n, "\t")
		if strings.HasPrefix(name, toComplete) && !slices.Contains(already, name) {
			out = append(out, n)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// registerConfigFlagCompletions completes --namespace from the cluster and --context and --cluster
// from the kubeconfig.
func registerConfigFlagCompletions(root *cobra.Command, f *Factory) {
	_ = root.RegisterFlagCompletionFunc("namespace", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
		defer cancel()
		c, err := f.Client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		list := &corev1.NamespaceList{}
		if err := c.List(ctx, list); err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var out []string
		for _, n := range list.Items {
			if strings.HasPrefix(n.Name, toComplete) {
				out = append(out, n.Name)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	kubeconfigNames := func(kind string) cobra.CompletionFunc {
		return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			raw, err := f.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			var names []string
			switch kind {
			case "context":
				for n := range raw.Contexts {
					names = append(names, n)
				}
			case "cluster":
				for n := range raw.Clusters {
					names = append(names, n)
				}
			case "user":
				for n := range raw.AuthInfos {
					names = append(names, n)
				}
			}
			var out []string
			for _, n := range names {
				if strings.HasPrefix(n, toComplete) {
					out = append(out, n)
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		}
	}
	_ = root.RegisterFlagCompletionFunc("context", kubeconfigNames("context"))
	_ = root.RegisterFlagCompletionFunc("cluster", kubeconfigNames("cluster"))
	_ = root.RegisterFlagCompletionFunc("user", kubeconfigNames("user"))
}
