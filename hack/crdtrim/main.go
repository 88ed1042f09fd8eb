// Command crdtrim keeps generated CRDs small enough for `kubectl apply`, whose last-applied
// annotation must stay under 256 KiB (Kubeflow's CRD fails with "metadata.annotations: Too long").
//
// It removes the descriptions below fields that embed upstream Kubernetes types (volumes, env,
// affinity, ...): the field keeps its own description, and `kubectl explain` still documents every
// field of this project, while the copied upstream documentation (80% of the size) goes.
//
// It also gives the schemaless driver and executor pod templates the types of their top-level fields
// (template.go), so that the API server refuses a wrong-typed one at admission, and writes out
// `conversion: {strategy: None}` (noConversion).
//
// Usage: go run ./hack/crdtrim FILE...   (rewrites each CRD YAML in place)
package main

import (
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

// upstreamFields are property names whose schemas come from k8s.io/api types.
var upstreamFields = map[string]bool{
	"volumes": true, "volumeMounts": true, "env": true, "envFrom": true, "affinity": true,
	"tolerations": true, "podSecurityContext": true, "securityContext": true, "dnsConfig": true,
	"hostAliases": true, "lifecycle": true, "ingressTLS": true, "resources": true,
	"conditions": true, "sidecars": true, "initContainers": true,
}

func main() {
	for _, path := range os.Args[1:] {
		if err := trimFile(path); err != nil {
			fmt.Fprintf(os.Stderr, "crdtrim: %s: %v\n", path, err)
			os.Exit(1)
		}
	}
}

func trimFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var crd map[string]any
	if err := yaml.Unmarshal(data, &crd); err != nil {
		return err
	}
	walk(crd, false)
	typeTemplates(crd)
	noConversion(crd)
	out, err := yaml.Marshal(crd)
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte("---\n"), out...), 0o644)
}

// walk removes "description" keys from every schema below an upstream field. strip says whether the
// current node is below one.
func walk(node any, strip bool) {
	switch n := node.(type) {
	case map[string]any:
		if strip {
			delete(n, "description")
		}
		for key, child := range n {
			if key == "properties" {
				props, ok := child.(map[string]any)
				if !ok {
					continue
				}
				for name, prop := range props {
					if upstreamFields[name] && !strip {
						// Keep the field's own description, strip everything below it.
						if m, ok := prop.(map[string]any); ok {
							for k, v := range m {
								if k != "description" {
									walk(v, true)
								}
							}
						}
						continue
					}
					walk(prop, strip)
				}
				continue
			}
			walk(child, strip)
		}
	case []any:
		for _, child := range n {
			walk(child, strip)
		}
	}
}

// noConversion sets spec.conversion to {strategy: None}, the API server's default for a CRD serving
// one version, written out because server-side apply needs it to be: Kubeflow's kustomize install
// sets {strategy: Webhook, ...}, and applying a CRD without the field over it (or over one whose
// strategy another apply set) removes the field and leaves `conversion: {}`, which the API server
// refuses ("spec.conversion.strategy: Required value"). Both config/crd and the chart's crds/ get it.
func noConversion(crd map[string]any) {
	if spec, ok := crd["spec"].(map[string]any); ok {
		spec["conversion"] = map[string]any{"strategy": "None"}
	}
}
