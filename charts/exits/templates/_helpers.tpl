{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "exits.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of every object name: the release name, plus the chart name unless it contains it. */}}
{{- define "exits.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of one service's objects: (dict "root" $ "name" "mask"). */}}
{{- define "exits.componentName" -}}
{{- printf "%s-%s" (include "exits.fullname" .root | trunc 50 | trimSuffix "-") .name -}}
{{- end -}}

{{- define "exits.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels shared by every pod of the release; NetworkPolicies use them for "inside the release". */}}
{{- define "exits.releaseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "exits.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels on every object: (dict "root" $ "name" "mask"), name empty for release-wide objects. */}}
{{- define "exits.labels" -}}
helm.sh/chart: {{ include "exits.chart" .root }}
{{ include "exits.releaseSelectorLabels" .root }}
{{- with .name }}
app.kubernetes.io/component: {{ . }}
{{- end }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: exits
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Immutable selector of one service's pods: (dict "root" $ "name" "mask"). */}}
{{- define "exits.selectorLabels" -}}
{{ include "exits.releaseSelectorLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* "true" when the service gets GPUs: (dict "root" $ "svc" $svc). */}}
{{- define "exits.gpuOn" -}}
{{- if and .root.Values.gpu.enabled (gt (int .svc.gpu) 0) -}}true{{- end -}}
{{- end -}}

{{/* Image reference of one service: (dict "root" $ "name" "mask" "svc" $svc). */}}
{{- define "exits.image" -}}
{{- $image := .root.Values.image -}}
{{- $own := default dict .svc.image -}}
{{- $flavor := $own.flavor | default (ternary "cuda" $image.flavor (eq (include "exits.gpuOn" .) "true")) -}}
{{- $repository := required "image.repository is required: the exits image's repository, e.g. exits/exits" ($own.repository | default $image.repository) -}}
{{- $tag := $own.tag | default $image.tag | default (printf "%s-%s" .root.Chart.AppVersion $flavor) -}}
{{- if $image.registry -}}
{{- printf "%s/%s:%s" $image.registry $repository $tag -}}
{{- else -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Fully qualified gRPC service name of a short name, as the health service reports it. */}}
{{- define "exits.grpcServiceName" -}}
{{- printf "exits.v1.%sService" (title .) -}}
{{- end -}}

{{- define "exits.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "exits.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "exits.exporterServiceAccountName" -}}
{{- default (printf "%s-exporter" (include "exits.fullname" .)) .Values.rbac.exporterServiceAccountName -}}
{{- end -}}

{{- define "exits.claimName" -}}
{{- default (printf "%s-data" (include "exits.fullname" .)) .Values.persistence.existingClaim -}}
{{- end -}}

{{/* host:port of a peer: the override, else this release's Service. (dict "root" $ "name" "crf"). */}}
{{- define "exits.peerAddress" -}}
{{- $override := index .root.Values.config.peerAddresses .name -}}
{{- if $override -}}
{{- $override -}}
{{- else -}}
{{- printf "%s:%d" (include "exits.componentName" .) (int (index .root.Values.services .name).grpcPort) -}}
{{- end -}}
{{- end -}}

{{/* Settings that no schema can express; rendered once, from configmap.yaml. */}}
{{- define "exits.validate" -}}
{{- range $name := list "trainer" "exporter" -}}
{{- $svc := index $.Values.services $name -}}
{{- if and $svc.enabled (ne (int $svc.replicaCount) 1) -}}
{{- fail (printf "services.%s.replicaCount must be 1: the %s owns job state in the data directory (got %d)" $name $name (int $svc.replicaCount)) -}}
{{- end -}}
{{- end -}}
{{- $shutdown := div (add (int .Values.config.shutdownDrainMs) (int .Values.config.shutdownGraceMs) 999) 1000 -}}
{{- $needed := add (int .Values.preStopSleepSeconds) $shutdown -}}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $needed) -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds + config.shutdownDrainMs + config.shutdownGraceMs (%d s), or the kubelet kills calls in flight" (int .Values.terminationGracePeriodSeconds) (int $needed)) -}}
{{- end -}}
{{- $mask := .Values.services.mask -}}
{{- if and $mask.autoscaling.enabled $mask.keda.enabled -}}
{{- fail "services.mask.autoscaling.enabled and services.mask.keda.enabled exclude each other: KEDA creates its own HorizontalPodAutoscaler" -}}
{{- end -}}
{{- end -}}
