package main

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"sigs.k8s.io/yaml"
)

// Manifest is one rendered Kubernetes object and the template it came from.
type Manifest struct {
	Source string                 `json:"source"`
	Text   string                 `json:"-"`
	Object map[string]interface{} `json:"object"`
}

type Rendered struct {
	Manifests []Manifest
	Notes     string
}

func (r Rendered) YAML() string {
	var b strings.Builder
	for _, m := range r.Manifests {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.Source, m.Text)
	}
	return b.String()
}

func (r Rendered) JSON() ([]byte, error) {
	if r.Manifests == nil {
		return []byte("[]"), nil
	}
	return json.MarshalIndent(r.Manifests, "", "  ")
}

func render(chart *Chart, values map[string]interface{}, release map[string]interface{}, caps Capabilities) (Rendered, error) {
	name := chart.Name()
	root := template.New("gotpl").Funcs(funcMap()).Option("missingkey=zero")
	bindTemplateFuncs(root)
	for _, f := range chart.Templates {
		if _, err := root.New(path.Join(name, f.Path)).Parse(f.Data); err != nil {
			return Rendered{}, fmt.Errorf("parse error in %q: %v", path.Join(name, f.Path), err)
		}
	}
	top := map[string]interface{}{
		"Values":       values,
		"Release":      release,
		"Chart":        chart.Metadata,
		"Capabilities": caps,
		"Files":        files(chart.Files),
	}
	var out Rendered
	for _, f := range chart.Templates {
		base := path.Base(f.Path)
		if strings.HasPrefix(base, "_") {
			continue
		}
		full := path.Join(name, f.Path)
		data := map[string]interface{}{}
		for k, v := range top {
			data[k] = v
		}
		data["Template"] = map[string]interface{}{"Name": full, "BasePath": path.Join(name, "templates")}
		var buf strings.Builder
		if err := root.ExecuteTemplate(&buf, full, data); err != nil {
			return Rendered{}, cleanExecError(err)
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if base == "NOTES.txt" {
			out.Notes = text
			continue
		}
		docs, err := splitManifests(full, text, true)
		if err != nil {
			return Rendered{}, err
		}
		out.Manifests = append(out.Manifests, docs...)
	}
	sort.SliceStable(out.Manifests, func(i, j int) bool {
		return kindRank(out.Manifests[i].Object) < kindRank(out.Manifests[j].Object)
	})
	return out, nil
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?$`)

func splitManifests(source, text string, requireKind bool) ([]Manifest, error) {
	var out []Manifest
	for _, doc := range docSeparator.Split(text, -1) {
		doc = strings.TrimSpace(doc)
		if doc == "" {
			continue
		}
		var obj map[string]interface{}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return nil, fmt.Errorf("YAML parse error on %s: %v\n%s", source, err, numbered(doc))
		}
		if obj == nil {
			continue // only comments
		}
		if requireKind && (obj["apiVersion"] == nil || obj["kind"] == nil) {
			return nil, fmt.Errorf("%s: object without apiVersion or kind:\n%s", source, numbered(doc))
		}
		out = append(out, Manifest{Source: source, Text: doc, Object: obj})
	}
	return out, nil
}

func numbered(doc string) string {
	lines := strings.Split(doc, "\n")
	for i := range lines {
		lines[i] = fmt.Sprintf("%4d | %s", i+1, lines[i])
	}
	return strings.Join(lines, "\n")
}

// Helm's InstallOrder (pkg/releaseutil/kind_sorter.go), the part a chart like this one uses.
var installOrder = []string{
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
	"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
	"PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
	"ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList",
	"RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController",
	"ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
	"IngressClass", "Ingress", "APIService",
}

func kindRank(obj map[string]interface{}) int {
	kind := fmt.Sprint(obj["kind"])
	for i, k := range installOrder {
		if k == kind {
			return i
		}
	}
	return len(installOrder) // unknown kinds (CRs such as ServiceMonitor) go last, in template order
}

// cleanExecError turns text/template's error into Helm's shorter "execution error at (...)" form.
var execErrorPattern = regexp.MustCompile(`^template: (.*?): executing ".*?" at <.*?>: error calling \w+: (.*)$`)

func cleanExecError(err error) error {
	msg := err.Error()
	if m := execErrorPattern.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("execution error at (%s): %s", m[1], m[2])
	}
	return err
}

func yamlDocsToJSON(in []byte) ([]byte, error) {
	docs, err := splitManifests("stdin", string(in), false)
	if err != nil {
		return nil, err
	}
	objects := make([]map[string]interface{}, 0, len(docs))
	for _, d := range docs {
		objects = append(objects, d.Object)
	}
	return json.MarshalIndent(objects, "", "  ")
}
