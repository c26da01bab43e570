{{- define "crioci.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "crioci.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "crioci.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "crioci.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "crioci.selectorLabels" -}}
app.kubernetes.io/name: {{ include "crioci.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "crioci.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "crioci.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The daemon's config file: values.config plus the paths and metrics address the DaemonSet mounts. */}}
{{- define "crioci.config" -}}
{{- $config := dict
  "socket" (printf "%s/crioci.sock" .Values.hostPaths.socketDir)
  "root" .Values.hostPaths.root
  "state" .Values.hostPaths.state
  "insecureRegistries" .Values.config.insecureRegistries
  "log" .Values.config.log
  "metrics" (dict "address" (ternary (printf "0.0.0.0:%v" .Values.metrics.port) "" .Values.metrics.enabled) "runtimeMetrics" true)
  "otlp" .Values.config.otlp -}}
{{- toPrettyJson $config -}}
{{- end -}}
