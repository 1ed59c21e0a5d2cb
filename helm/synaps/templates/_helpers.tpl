{{/* Names, labels and the pieces every synaps pod shares. */}}

{{- define "synaps.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's base name; component objects append -api, -worker, ... (so keep it short). */}}
{{- define "synaps.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 42 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 42 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 42 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "synaps.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "synaps.selectorLabels" -}}
app.kubernetes.io/name: {{ include "synaps.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels for an object of one component: include "synaps.labels" (dict "ctx" $ "component" "api") */}}
{{- define "synaps.labels" -}}
helm.sh/chart: {{ include "synaps.chart" .ctx }}
{{ include "synaps.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: synaps
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selects the synaps process pods of the release: the only clients of PostgreSQL and NATS. */}}
{{- define "synaps.clientPeer" -}}
- podSelector:
    matchLabels:
      app.kubernetes.io/instance: {{ .Release.Name }}
      app.kubernetes.io/name: {{ include "synaps.name" . }}
    matchExpressions:
      - key: app.kubernetes.io/component
        operator: In
        values: [api, worker, projector, migrate]
{{- end -}}

{{- define "synaps.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* ServiceAccount name of a component: include "synaps.serviceAccountName" (dict "ctx" $ "component" "worker") */}}
{{- define "synaps.serviceAccountName" -}}
{{- $sa := (index .ctx.Values .component).serviceAccount -}}
{{- if $sa.create -}}
{{- default (printf "%s-%s" (include "synaps.fullname" .ctx) .component) $sa.name -}}
{{- else -}}
{{- default "default" $sa.name -}}
{{- end -}}
{{- end -}}

{{/* Pod security context: the values' ids and profile (RuntimeDefault if none), never root. */}}
{{- define "synaps.podSecurityContext" -}}
{{- toYaml (merge (dict "runAsNonRoot" true) (deepCopy .) (dict "seccompProfile" (dict "type" "RuntimeDefault"))) -}}
{{- end -}}

{{/* Container security context shared by every container of the chart. */}}
{{- define "synaps.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop:
    - ALL
{{- end -}}

{{- define "synaps.postgresql.fullname" -}}
{{- printf "%s-postgresql" (include "synaps.fullname" .) -}}
{{- end -}}

{{- define "synaps.nats.fullname" -}}
{{- printf "%s-nats" (include "synaps.fullname" .) -}}
{{- end -}}

{{/* The Secret holding the bundled PostgreSQL password. */}}
{{- define "synaps.postgresql.passwordSecret" -}}
{{- default (include "synaps.postgresql.fullname" .) .Values.postgresql.auth.existingSecret -}}
{{- end -}}

{{- define "synaps.postgresql.passwordKey" -}}
{{- if .Values.postgresql.auth.existingSecret -}}
{{- .Values.postgresql.auth.passwordKey -}}
{{- else -}}
password
{{- end -}}
{{- end -}}

{{/*
The database URL as the pods see it. Bundled PostgreSQL: a URL without the password, which
libpq takes from PGPASSWORD (so any password works, whatever its characters).
*/}}
{{- define "synaps.postgresql.url" -}}
{{- $pg := .Values.postgresql -}}
{{- printf "postgresql://%s@%s:%d/%s" $pg.auth.username (include "synaps.postgresql.fullname" .) (int $pg.port) $pg.auth.database -}}
{{- end -}}

{{/* The Secret and key that hold SYNAPS_DATABASE_URL. */}}
{{- define "synaps.databaseUrlSecret" -}}
{{- if and (not .Values.postgresql.enabled) .Values.externalDatabase.existingSecret -}}
{{- .Values.externalDatabase.existingSecret -}}
{{- else -}}
{{- printf "%s-database" (include "synaps.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "synaps.databaseUrlKey" -}}
{{- if and (not .Values.postgresql.enabled) .Values.externalDatabase.existingSecret -}}
{{- .Values.externalDatabase.key -}}
{{- else -}}
database-url
{{- end -}}
{{- end -}}

{{/* The database variables: the URL from a Secret, and the bundled PostgreSQL's password. */}}
{{- define "synaps.databaseEnv" -}}
- name: SYNAPS_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "synaps.databaseUrlSecret" . }}
      key: {{ include "synaps.databaseUrlKey" . }}
{{- if .Values.postgresql.enabled }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "synaps.postgresql.passwordSecret" . }}
      key: {{ include "synaps.postgresql.passwordKey" . }}
{{- end }}
{{- end -}}

{{/* SYNAPS_NATS_URL when it is held in a Secret (otherwise it is in the ConfigMap). */}}
{{- define "synaps.natsEnv" -}}
{{- if and (not .Values.nats.enabled) .Values.externalNats.existingSecret }}
- name: SYNAPS_NATS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.externalNats.existingSecret }}
      key: {{ .Values.externalNats.key }}
{{- end }}
{{- end -}}

{{/* The bootstrap admin key, from the release Secret or an existing one. */}}
{{- define "synaps.adminKeyEnv" -}}
- name: SYNAPS_BOOTSTRAP_ADMIN_KEY
  valueFrom:
    secretKeyRef:
      {{- if .Values.bootstrapAdminKey.existingSecret }}
      name: {{ .Values.bootstrapAdminKey.existingSecret }}
      key: {{ .Values.bootstrapAdminKey.key }}
      {{- else }}
      name: {{ include "synaps.fullname" . }}
      key: bootstrap-admin-key
      {{- end }}
{{- end -}}

{{/* S3 credentials, from the release Secret or an existing one. */}}
{{- define "synaps.artifactsEnv" -}}
{{- $s3 := .Values.artifacts.s3 -}}
{{- $release := include "synaps.fullname" . -}}
{{- if $s3.existingSecret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ $s3.existingSecret }}
      key: {{ $s3.accessKeyIdKey }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $s3.existingSecret }}
      key: {{ $s3.secretAccessKeyKey }}
- name: AWS_ENDPOINT_URL
  valueFrom:
    secretKeyRef:
      name: {{ $s3.existingSecret }}
      key: {{ $s3.endpointUrlKey }}
      optional: true
{{- else }}
{{- range $name, $value := dict "AWS_ACCESS_KEY_ID" $s3.accessKeyId "AWS_SECRET_ACCESS_KEY" $s3.secretAccessKey "AWS_ENDPOINT_URL" $s3.endpointUrl }}
{{- if $value }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $release }}
      key: {{ $name }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Model provider keys, from the release Secret or existing ones. */}}
{{- define "synaps.providerEnv" -}}
{{- $release := include "synaps.fullname" . -}}
{{- range $provider, $name := dict "anthropic" "ANTHROPIC_API_KEY" "openai" "OPENAI_API_KEY" "moonshot" "MOONSHOT_API_KEY" }}
{{- $p := index $.Values.providers $provider }}
{{- if $p.existingSecret }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $p.existingSecret }}
      key: {{ $p.key }}
{{- else if $p.apiKey }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $release }}
      key: {{ $name }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
Restart pods when their configuration or secrets change. The secret checksum covers the
values that feed the Secrets (not the rendered Secrets, whose generated keys would differ
between renders), so it changes exactly when those inputs change.
*/}}
{{- define "synaps.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ list .Values.bootstrapAdminKey .Values.providers .Values.artifacts.s3 .Values.externalDatabase .Values.externalNats .Values.postgresql.auth | toJson | sha256sum }}
{{- end -}}

{{/* The volumes of a synaps pod: a writable /tmp on a read-only root filesystem. */}}
{{- define "synaps.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 1Gi
{{- end -}}

{{- define "synaps.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* Fail early, with the fix in the message, on combinations the schema cannot express. */}}
{{- define "synaps.validate" -}}
{{- if and (not .Values.postgresql.enabled) (not .Values.externalDatabase.existingSecret) (not .Values.externalDatabase.url) -}}
{{- fail "postgresql.enabled=false needs an external database: set externalDatabase.existingSecret (and externalDatabase.key) or externalDatabase.url" -}}
{{- end -}}
{{- if and .Values.postgresql.enabled (or .Values.externalDatabase.existingSecret .Values.externalDatabase.url) -}}
{{- fail "externalDatabase is set but postgresql.enabled=true: set postgresql.enabled=false to use the external database" -}}
{{- end -}}
{{- if and .Values.nats.enabled (or .Values.externalNats.url .Values.externalNats.existingSecret) -}}
{{- fail "externalNats is set but nats.enabled=true: set nats.enabled=false to use the external NATS" -}}
{{- end -}}
{{- $hpa := .Values.worker.autoscaling -}}
{{- if and $hpa.enabled (gt (int $hpa.minReplicas) (int $hpa.maxReplicas)) -}}
{{- fail (printf "worker.autoscaling.minReplicas (%d) must not exceed worker.autoscaling.maxReplicas (%d)" (int $hpa.minReplicas) (int $hpa.maxReplicas)) -}}
{{- end -}}
{{- range $provider := list "anthropic" "openai" "moonshot" -}}
{{- $p := index $.Values.providers $provider -}}
{{- if and $p.apiKey $p.existingSecret -}}
{{- fail (printf "providers.%s: set apiKey or existingSecret, not both" $provider) -}}
{{- end -}}
{{- end -}}
{{- $s3 := .Values.artifacts.s3 -}}
{{- if and $s3.existingSecret (or $s3.accessKeyId $s3.secretAccessKey $s3.endpointUrl) -}}
{{- fail "artifacts.s3: set the inline credentials or existingSecret, not both" -}}
{{- end -}}
{{- end -}}
