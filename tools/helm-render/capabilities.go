package main

import (
	"fmt"

	"github.com/Masterminds/semver"
	"regexp"
	"strings"
)

// KubeVersion mirrors Helm's .Capabilities.KubeVersion.
type KubeVersion struct {
	Version, Major, Minor, GitVersion string
}

func (k KubeVersion) String() string { return k.Version }

// VersionSet mirrors Helm's .Capabilities.APIVersions (Has "group/version" or "group/version/Kind").
type VersionSet []string

func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
}

// builtinAPIVersions are the groups every supported cluster serves; CRDs (ServiceMonitor,
// ScaledObject) are only present when passed with --api-versions, as with helm template.
var builtinAPIVersions = []string{
	"v1", "apps/v1", "batch/v1", "policy/v1", "autoscaling/v1", "autoscaling/v2",
	"networking.k8s.io/v1", "rbac.authorization.k8s.io/v1", "storage.k8s.io/v1",
	"scheduling.k8s.io/v1", "node.k8s.io/v1", "coordination.k8s.io/v1", "discovery.k8s.io/v1",
}

var kubeVersionPattern = regexp.MustCompile(`^v?(\d+)\.(\d+)(\.\d+)?([-+].*)?$`)

func newCapabilities(version string, extra []string) (Capabilities, error) {
	m := kubeVersionPattern.FindStringSubmatch(version)
	if m == nil {
		return Capabilities{}, fmt.Errorf("--kube-version %q is not a version like v1.31.0", version)
	}
	v := "v" + strings.TrimPrefix(version, "v")
	if m[3] == "" {
		v = fmt.Sprintf("v%s.%s.0", m[1], m[2])
	}
	return Capabilities{
		KubeVersion: KubeVersion{Version: v, Major: m[1], Minor: m[2], GitVersion: v},
		APIVersions: append(append(VersionSet{}, builtinAPIVersions...), extra...),
	}, nil
}

// checkKubeVersion enforces Chart.yaml's kubeVersion constraint, as helm install and template do.
func checkKubeVersion(chart *Chart, caps Capabilities) error {
	constraint, ok := chart.Metadata["KubeVersion"].(string)
	if !ok || constraint == "" {
		return nil
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return fmt.Errorf("Chart.yaml kubeVersion %q: %v", constraint, err)
	}
	v, err := semver.NewVersion(caps.KubeVersion.Version)
	if err != nil {
		return err
	}
	if !c.Check(v) {
		return fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", constraint, caps.KubeVersion.Version)
	}
	return nil
}
