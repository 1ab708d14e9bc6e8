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
app.kubernetes.io/instance: {{ .Release.Name | quote }}
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
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{- define "pylon.gatewaySelector" -}}
app.kubernetes.io/name: pylon-gateway
app.kubernetes.io/component: gateway
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{/*
A Pod template's labels: podLabels (.labels) and the selector labels
(.selector, rendered). A podLabels key that is also a selector key with
another value would leave the Pods outside their Deployment's selector, and
the same key twice is invalid YAML: the value is refused with the key named
(.what: "manager" or "gateway"); an equal value is dropped as redundant.
*/}}
{{- define "pylon.podLabels" -}}
{{- $sel := .selector | fromYaml -}}
{{- $extra := dict -}}
{{- range $k, $v := .labels -}}
{{- if hasKey $sel $k -}}
{{- if ne (toString $v) (toString (get $sel $k)) -}}
{{- fail (printf "%s.podLabels: %q is a selector label of the chart's %s Deployment (%q here); podLabels may not change it (set to %q): the Pods would not match their own Deployment. Remove it from podLabels." $.what $k $.what (toString (get $sel $k)) (toString $v)) -}}
{{- end -}}
{{- else -}}
{{- $_ := set $extra $k (toString $v) -}}
{{- end -}}
{{- end -}}
{{- with $extra }}
{{ toYaml . }}
{{- end }}
{{ .selector }}
{{- end -}}

{{/* repository@digest when image.digest is set, else repository:tag. */}}
{{- define "pylon.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default (printf "v%s" .Chart.AppVersion) }}
{{- end -}}
{{- end -}}

{{/* RBAC rules copied from config/ by `make chart`; test/packaging checks they match. */}}
{{- define "pylon.rules" -}}
{{- $f := printf "files/rbac/%s.yaml" .name -}}
{{- $rules := .root.Files.Get $f | fromYaml -}}
{{- if not $rules.rules }}{{ fail (printf "%s has no rules: run make chart" $f) }}{{ end -}}
{{ toYaml $rules.rules }}
{{- end -}}

{{/*
Pod-level fields both Deployments share (values of manager or gateway as
.v): priorityClassName, nodeSelector, tolerations, affinity and
topologySpreadConstraints (gateway: a default spread, passed as .spread).
*/}}
{{- define "pylon.podScheduling" -}}
{{- with .v.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .v.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (.v.topologySpreadConstraints | default .spread) }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
The IP the gateway's admin endpoint (/healthz, /readyz, /metrics) binds:
gateway.admin.address, else the Pod IP, else with hostNetwork (where the
Pod IP is the node's address) loopback. See docs/security.md.
*/}}
{{- define "pylon.gatewayAdminHost" -}}
{{- $g := .Values.gateway -}}
{{- if $g.admin.address -}}{{ $g.admin.address }}
{{- else if $g.hostNetwork -}}127.0.0.1
{{- else -}}$(POD_IP)
{{- end -}}
{{- end -}}

{{/*
Where kubelet probes the admin endpoint: the Pod IP (the default, empty)
unless hostNetwork binds it elsewhere; kubelet shares the node's network
namespace, so it reaches the gateway's loopback then.
*/}}
{{- define "pylon.gatewayAdminProbeHost" -}}
{{- $g := .Values.gateway -}}
{{- if $g.hostNetwork -}}
{{- if and $g.admin.address (not (has $g.admin.address (list "0.0.0.0" "::" "[::]"))) -}}{{ $g.admin.address }}
{{- else -}}127.0.0.1
{{- end -}}
{{- end -}}
{{- end -}}
