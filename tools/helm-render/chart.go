package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"sigs.k8s.io/yaml"
)

// Chart is a chart directory loaded into memory: metadata, default values, schema and templates.
type Chart struct {
	Dir       string
	Metadata  map[string]interface{} // Chart.yaml with Helm's field names (Name, Version, AppVersion, ...)
	Values    map[string]interface{}
	Schema    interface{}
	Templates []templateFile // every file under templates/, sorted by path
	Files     map[string][]byte
}

type templateFile struct {
	Path string // relative to the chart, e.g. templates/deployment.yaml
	Data string
}

func (c *Chart) Name() string { return fmt.Sprint(c.Metadata["Name"]) }

func loadChart(dir string) (*Chart, error) {
	chart := &Chart{Dir: dir, Files: map[string][]byte{}}
	meta := map[string]interface{}{}
	if err := readYAML(filepath.Join(dir, "Chart.yaml"), &meta); err != nil {
		return nil, err
	}
	if meta["name"] == nil || meta["version"] == nil {
		return nil, fmt.Errorf("%s/Chart.yaml: name and version are required", dir)
	}
	// Helm exposes chart metadata through its Go struct, so templates write .Chart.AppVersion.
	chart.Metadata = map[string]interface{}{}
	for k, v := range meta {
		chart.Metadata[string(unicode.ToUpper(rune(k[0])))+k[1:]] = v
	}
	chart.Values = map[string]interface{}{}
	if err := readYAML(filepath.Join(dir, "values.yaml"), &chart.Values); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "values.schema.json")); err == nil {
		if err := json.Unmarshal(raw, &chart.Schema); err != nil {
			return nil, fmt.Errorf("values.schema.json: %v", err)
		}
	}
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rel, "templates/") {
			chart.Templates = append(chart.Templates, templateFile{Path: rel, Data: string(data)})
		} else {
			chart.Files[rel] = data
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(chart.Templates, func(i, j int) bool { return chart.Templates[i].Path < chart.Templates[j].Path })
	return chart, nil
}

func readYAML(path string, into interface{}) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// files is .Files: the chart's non-template files.
type files map[string][]byte

func (f files) Get(name string) string      { return string(f[name]) }
func (f files) GetBytes(name string) []byte { return f[name] }
