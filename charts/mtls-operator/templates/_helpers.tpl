{{/* Names and labels shared by every template of the chart. */}}

{{/* The chart name, or nameOverride. */}}
{{- define "mtls.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object name: fullnameOverride, or the release name when it already holds the
chart name, or <release>-<chart>. Kept to 52 characters so that suffixes such as -webhook-tls
stay within the 63 a label value allows.
*/}}
{{- define "mtls.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "mtls.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "mtls.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mtls-operator
{{- end }}

{{/* Selector labels of one component: call with (dict "root" $ "component" "operator"). */}}
{{- define "mtls.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mtls.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Every label of one component's objects: call like mtls.selectorLabels. */}}
{{- define "mtls.componentLabels" -}}
{{ include "mtls.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The operator's ServiceAccount. */}}
{{- define "mtls.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mtls.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Object names the operator's flags, the Role and the webhook configuration must agree on. */}}
{{- define "mtls.webhookServiceName" -}}
{{ include "mtls.fullname" . }}-webhook
{{- end }}

{{- define "mtls.webhookSecretName" -}}
{{ include "mtls.fullname" . }}-webhook-tls
{{- end }}

{{- define "mtls.leaseName" -}}
{{ include "mtls.fullname" . }}-leader
{{- end }}

{{- define "mtls.gatewayName" -}}
{{ include "mtls.fullname" . }}-gateway
{{- end }}

{{/* Image references: repository:tag, the tag defaulting to the chart's appVersion. */}}
{{- define "mtls.operatorImage" -}}
{{ .Values.operator.image.repository }}:{{ .Values.operator.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "mtls.sidecarImage" -}}
{{ .Values.sidecar.image.repository }}:{{ .Values.sidecar.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/*
Where the projected ServiceAccount token for the Vault login is mounted, in the operator, the
gateway and (by the webhook) the sidecar.
*/}}
{{- define "mtls.vaultTokenDir" -}}
/var/run/secrets/mtls.io/vault
{{- end }}

{{/* The projected token volume: audience from the values, an hour of validity. */}}
{{- define "mtls.vaultTokenVolume" -}}
- name: mtls-vault-token
  projected:
    sources:
      - serviceAccountToken:
          path: token
          audience: {{ .Values.vault.tokenAudience | quote }}
          expirationSeconds: 3600
{{- end }}

{{/* The container security context of every non-root container of the chart. */}}
{{- define "mtls.restrictedContainer" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end }}

{{/* Prefer spreading a component's replicas over nodes: call like mtls.selectorLabels. */}}
{{- define "mtls.spreadAffinity" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "mtls.selectorLabels" . | nindent 12 }}
{{- end }}

{{/* The injection configuration file, shared by its ConfigMap and the operator's checksum. */}}
{{- define "mtls.injectionConfig" -}}
{{- $sidecar := omit .Values.sidecar "image" }}
{{- $_ := set $sidecar "image" (include "mtls.sidecarImage" .) }}
{{- $_ := set $sidecar "imagePullPolicy" .Values.sidecar.image.pullPolicy }}
{{- $vault := pick .Values.vault "address" "role" "authMount" "mount" "tokenAudience" }}
{{- dict "sidecar" $sidecar "vault" $vault "egress" .Values.egress | toYaml }}
{{- end }}

{{- /*
The amount a resource quantity such as 50m, 64Mi or 1.5 stands for, as a float, so that a request
and a limit can be compared; values.schema.json has already checked its form.
*/ -}}
{{- define "mtls.quantityValue" -}}
{{- $text := toString . }}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" $text }}
{{- $scales := dict "" 1.0 "m" 0.001 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 }}
{{- mulf (float64 $number) (get $scales (trimPrefix $number $text)) }}
{{- end }}
