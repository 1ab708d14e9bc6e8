{{/* Object name prefix: the release name, or "<release>-pylon" when the release name does not say pylon. */}}
{{- define "pylon.fullname" -}}
{{- if contains "pylon" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-pylon" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object; objects with selector labels use pylon.baseLabels plus those. */}}
{{- define "pylon.labels" -}}
{{ include "pylon.baseLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "pylon.baseLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: pylon
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* Selector labels; they never change across upgrades (selectors are immutable). */}}
{{- define "pylon.managerSelector" -}}
app.kubernetes.io/name: pylon
app.kubernetes.io/component: manager
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "pylon.gatewaySelector" -}}
app.kubernetes.io/name: pylon-gateway
app.kubernetes.io/component: gateway
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "pylon.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default (printf "v%s" .Chart.AppVersion) }}
{{- end -}}

{{/* RBAC rules copied from config/ by `make chart`; test/packaging checks they match. */}}
{{- define "pylon.rules" -}}
{{- $f := printf "files/rbac/%s.yaml" .name -}}
{{- $rules := .root.Files.Get $f | fromYaml -}}
{{- if not $rules.rules }}{{ fail (printf "%s has no rules: run make chart" $f) }}{{ end -}}
{{ toYaml $rules.rules }}
{{- end -}}

{{/* The restricted Pod Security Standard, for every container. */}}
{{- define "pylon.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end -}}
