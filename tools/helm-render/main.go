// Command helm-render renders a Helm chart directory the way `helm template` does, with Go's
// text/template, sprig and Helm's own functions (include, tpl, toYaml, required, ...). It exists
// because no Helm binary can be installed on the build machines; it builds in GOPATH mode from
// Debian's packages only:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o helm-render ./tools/helm-render
//
// Usage:
//
//	helm-render [-f values.yaml]... [--set a.b=c]... [--name R] [--namespace N] [--output yaml|json] CHART
//	helm-render --yaml2json < multi-doc.yaml   (a JSON array of the documents, for tests)
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	var valueFiles, sets, setStrings, apiVersions multiFlag
	flag.Var(&valueFiles, "f", "values file merged over the chart's values.yaml (repeatable)")
	flag.Var(&sets, "set", "key.path=value override, typed like Helm's --set (repeatable, comma-separated)")
	flag.Var(&setStrings, "set-string", "key.path=value override, always a string (repeatable)")
	flag.Var(&apiVersions, "api-versions", "extra API version for .Capabilities.APIVersions (repeatable)")
	name := flag.String("name", "release-name", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	kubeVersion := flag.String("kube-version", "v1.31.0", "Kubernetes version for .Capabilities.KubeVersion")
	isUpgrade := flag.Bool("is-upgrade", false, "set .Release.IsUpgrade instead of .Release.IsInstall")
	output := flag.String("output", "yaml", "yaml (like helm template) or json (an array of {source, object})")
	showNotes := flag.Bool("show-notes", false, "print the rendered NOTES.txt after the manifests")
	notesOnly := flag.Bool("notes", false, "print only the rendered NOTES.txt")
	yaml2json := flag.Bool("yaml2json", false, "convert multi-document YAML on stdin to a JSON array and exit")
	// Like helm, accept flags before and after the chart argument.
	var positional []string
	for args := os.Args[1:]; ; {
		exitOn(flag.CommandLine.Parse(args))
		if flag.NArg() == 0 {
			break
		}
		positional = append(positional, flag.Arg(0))
		args = flag.Args()[1:]
	}

	if *yaml2json {
		in, err := io.ReadAll(os.Stdin)
		exitOn(err)
		out, err := yamlDocsToJSON(in)
		exitOn(err)
		fmt.Println(string(out))
		return
	}
	if len(positional) != 1 {
		exitOn(fmt.Errorf("expected exactly one chart directory, got %d arguments", len(positional)))
	}
	chart, err := loadChart(positional[0])
	exitOn(err)
	values, err := mergeValues(chart.Values, valueFiles, sets, setStrings)
	exitOn(err)
	if chart.Schema != nil {
		if problems := validateSchema(chart.Schema, values); len(problems) > 0 {
			exitOn(fmt.Errorf("values don't meet the specifications of the schema(s) in the following chart(s):\n%s:\n- %s",
				chart.Name(), strings.Join(problems, "\n- ")))
		}
	}
	caps, err := newCapabilities(*kubeVersion, apiVersions)
	exitOn(err)
	exitOn(checkKubeVersion(chart, caps))
	release := map[string]interface{}{
		"Name": *name, "Namespace": *namespace, "Service": "Helm", "Revision": 1,
		"IsInstall": !*isUpgrade, "IsUpgrade": *isUpgrade,
	}
	rendered, err := render(chart, values, release, caps)
	exitOn(err)
	if *notesOnly {
		fmt.Print(rendered.Notes)
		return
	}
	switch *output {
	case "yaml":
		fmt.Print(rendered.YAML())
		if *showNotes && rendered.Notes != "" {
			fmt.Printf("\nNOTES:\n%s", rendered.Notes)
		}
	case "json":
		out, err := rendered.JSON()
		exitOn(err)
		fmt.Println(string(out))
	default:
		exitOn(fmt.Errorf("unknown --output %q (yaml or json)", *output))
	}
}

func exitOn(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}
