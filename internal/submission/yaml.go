package submission

import (
	"bytes"
	"encoding/json"
	"fmt"

	"sigs.k8s.io/yaml"
)

// Objects returns the rendered objects in creation order: the driver pod, then the objects it owns.
func (r *Resources) Objects() []Object {
	return append([]Object{r.DriverPod}, r.DriverOwned()...)
}

// YAML renders the objects as a YAML stream ("---" separated) in creation order, without the empty
// status and creationTimestamp fields that Go structs carry: what `spark-operator render` prints.
func (r *Resources) YAML() ([]byte, error) {
	var buf bytes.Buffer
	for _, o := range r.Objects() {
		out, err := cleanYAML(o)
		if err != nil {
			return nil, fmt.Errorf("rendering %s %s: %w", o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), err)
		}
		buf.WriteString("---\n")
		buf.Write(out)
	}
	return buf.Bytes(), nil
}

// CleanYAML marshals an object to YAML as render prints it: without its status and a null
// creationTimestamp.
func CleanYAML(obj any) ([]byte, error) { return cleanYAML(obj) }

// cleanYAML marshals obj to YAML without its status and a null creationTimestamp.
func cleanYAML(obj any) ([]byte, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		if md["creationTimestamp"] == nil {
			delete(md, "creationTimestamp")
		}
		if len(md) == 0 {
			delete(m, "metadata")
		}
	}
	return yaml.Marshal(m)
}
