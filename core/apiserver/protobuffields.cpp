// Field numbers of the protobuf messages ProtobufDecoder reads, from Kubernetes'
// generated.proto files (k8s.io/api core/v1 and apps/v1, k8s.io/apimachinery meta/v1,
// runtime, intstr, resource): the kinds kubectl's typed create commands send and every
// message they contain. One block per message: `message NAME`, then `NUMBER jsonName TYPE
// [ptr]`, where TYPE is a proto scalar, a message, `repeated T` or `map<string,T>`, and ptr
// marks a Go pointer field (its zero value is meaningful and kept). Field numbers never
// change in Kubernetes, so new fields only add lines.
namespace podscape::core::apiserver {

extern const char *const kProtobufFields;
const char *const kProtobufFields = R"PB(
message core.v1.Affinity
  1 nodeAffinity core.v1.NodeAffinity ptr
  2 podAffinity core.v1.PodAffinity ptr
  3 podAntiAffinity core.v1.PodAntiAffinity ptr
message core.v1.Capabilities
  1 add repeated string
  2 drop repeated string
message core.v1.ClientIPConfig
  1 timeoutSeconds int32 ptr
message core.v1.ConfigMap
  1 metadata meta.v1.ObjectMeta
  4 immutable bool ptr
  2 data map<string,string>
  3 binaryData map<string,bytes>
message core.v1.ConfigMapEnvSource
  1 localObjectReference core.v1.LocalObjectReference
  2 optional bool ptr
message core.v1.ConfigMapKeySelector
  1 localObjectReference core.v1.LocalObjectReference
  2 key string
  3 optional bool ptr
message core.v1.ConfigMapVolumeSource
  1 localObjectReference core.v1.LocalObjectReference
  2 items repeated core.v1.KeyToPath
  3 defaultMode int32 ptr
  4 optional bool ptr
message core.v1.Container
  1 name string
  2 image string
  3 command repeated string
  4 args repeated string
  5 workingDir string
  6 ports repeated core.v1.ContainerPort
  19 envFrom repeated core.v1.EnvFromSource
  7 env repeated core.v1.EnvVar
  8 resources core.v1.ResourceRequirements
  23 resizePolicy repeated core.v1.ContainerResizePolicy
  24 restartPolicy string ptr
  25 restartPolicyRules repeated core.v1.ContainerRestartRule
  9 volumeMounts repeated core.v1.VolumeMount
  21 volumeDevices repeated core.v1.VolumeDevice
  10 livenessProbe core.v1.Probe ptr
  11 readinessProbe core.v1.Probe ptr
  22 startupProbe core.v1.Probe ptr
  12 lifecycle core.v1.Lifecycle ptr
  13 terminationMessagePath string
  20 terminationMessagePolicy string
  14 imagePullPolicy string
  15 securityContext core.v1.SecurityContext ptr
  16 stdin bool
  17 stdinOnce bool
  18 tty bool
message core.v1.ContainerPort
  1 name string
  2 hostPort int32
  3 containerPort int32
  4 protocol string
  5 hostIP string
message core.v1.EmptyDirVolumeSource
  1 medium string
  2 sizeLimit resource.Quantity ptr
message core.v1.EnvFromSource
  1 prefix string
  2 configMapRef core.v1.ConfigMapEnvSource ptr
  3 secretRef core.v1.SecretEnvSource ptr
message core.v1.EnvVar
  1 name string
  2 value string
  3 valueFrom core.v1.EnvVarSource ptr
message core.v1.EnvVarSource
  1 fieldRef core.v1.ObjectFieldSelector ptr
  2 resourceFieldRef core.v1.ResourceFieldSelector ptr
  3 configMapKeyRef core.v1.ConfigMapKeySelector ptr
  4 secretKeyRef core.v1.SecretKeySelector ptr
  5 fileKeyRef core.v1.FileKeySelector ptr
message core.v1.ExecAction
  1 command repeated string
message core.v1.GRPCAction
  1 port int32
  2 service string ptr
message core.v1.HTTPGetAction
  1 path string
  2 port intstr.IntOrString
  3 host string
  4 scheme string
  5 httpHeaders repeated core.v1.HTTPHeader
message core.v1.HTTPHeader
  1 name string
  2 value string
message core.v1.HostAlias
  1 ip string
  2 hostnames repeated string
message core.v1.HostPathVolumeSource
  1 path string
  2 type string ptr
message core.v1.KeyToPath
  1 key string
  2 path string
  3 mode int32 ptr
message core.v1.Lifecycle
  1 postStart core.v1.LifecycleHandler ptr
  2 preStop core.v1.LifecycleHandler ptr
  3 stopSignal string ptr
message core.v1.LifecycleHandler
  1 exec core.v1.ExecAction ptr
  2 httpGet core.v1.HTTPGetAction ptr
  3 tcpSocket core.v1.TCPSocketAction ptr
  4 sleep core.v1.SleepAction ptr
message core.v1.LoadBalancerIngress
  1 ip string
  2 hostname string
  3 ipMode string ptr
  4 ports repeated core.v1.PortStatus
message core.v1.LoadBalancerStatus
  1 ingress repeated core.v1.LoadBalancerIngress
message core.v1.LocalObjectReference
  1 name string
message core.v1.Namespace
  1 metadata meta.v1.ObjectMeta
  2 spec core.v1.NamespaceSpec
  3 status core.v1.NamespaceStatus
message core.v1.NamespaceCondition
  1 type string
  2 status string
  4 lastTransitionTime meta.v1.Time
  5 reason string
  6 message string
message core.v1.NamespaceSpec
  1 finalizers repeated string
message core.v1.NamespaceStatus
  1 phase string
  2 conditions repeated core.v1.NamespaceCondition
message core.v1.ObjectFieldSelector
  1 apiVersion string
  2 fieldPath string
message core.v1.PersistentVolumeClaimVolumeSource
  1 claimName string
  2 readOnly bool
message core.v1.PodDNSConfig
  1 nameservers repeated string
  2 searches repeated string
  3 options repeated core.v1.PodDNSConfigOption
message core.v1.PodReadinessGate
  1 conditionType string
message core.v1.PodSecurityContext
  1 seLinuxOptions core.v1.SELinuxOptions ptr
  8 windowsOptions core.v1.WindowsSecurityContextOptions ptr
  2 runAsUser int64 ptr
  6 runAsGroup int64 ptr
  3 runAsNonRoot bool ptr
  4 supplementalGroups repeated int64
  12 supplementalGroupsPolicy string ptr
  5 fsGroup int64 ptr
  7 sysctls repeated core.v1.Sysctl
  9 fsGroupChangePolicy string ptr
  10 seccompProfile core.v1.SeccompProfile ptr
  11 appArmorProfile core.v1.AppArmorProfile ptr
  13 seLinuxChangePolicy string ptr
message core.v1.PodSpec
  1 volumes repeated core.v1.Volume
  20 initContainers repeated core.v1.Container
  2 containers repeated core.v1.Container
  34 ephemeralContainers repeated core.v1.EphemeralContainer
  3 restartPolicy string
  4 terminationGracePeriodSeconds int64 ptr
  5 activeDeadlineSeconds int64 ptr
  6 dnsPolicy string
  7 nodeSelector map<string,string>
  8 serviceAccountName string
  9 serviceAccount string
  21 automountServiceAccountToken bool ptr
  10 nodeName string
  11 hostNetwork bool
  12 hostPID bool
  13 hostIPC bool
  27 shareProcessNamespace bool ptr
  14 securityContext core.v1.PodSecurityContext ptr
  15 imagePullSecrets repeated core.v1.LocalObjectReference
  16 hostname string
  17 subdomain string
  18 affinity core.v1.Affinity ptr
  19 schedulerName string
  22 tolerations repeated core.v1.Toleration
  23 hostAliases repeated core.v1.HostAlias
  24 priorityClassName string
  25 priority int32 ptr
  26 dnsConfig core.v1.PodDNSConfig ptr
  28 readinessGates repeated core.v1.PodReadinessGate
  29 runtimeClassName string ptr
  30 enableServiceLinks bool ptr
  31 preemptionPolicy string ptr
  32 overhead map<string,resource.Quantity>
  33 topologySpreadConstraints repeated core.v1.TopologySpreadConstraint
  35 setHostnameAsFQDN bool ptr
  36 os core.v1.PodOS ptr
  37 hostUsers bool ptr
  38 schedulingGates repeated core.v1.PodSchedulingGate
  39 resourceClaims repeated core.v1.PodResourceClaim
  40 resources core.v1.ResourceRequirements ptr
  41 hostnameOverride string ptr
  42 workloadRef core.v1.WorkloadReference ptr
message core.v1.PodTemplateSpec
  1 metadata meta.v1.ObjectMeta
  2 spec core.v1.PodSpec
message core.v1.PortStatus
  1 port int32
  2 protocol string
  3 error string
message core.v1.Probe
  1 handler core.v1.ProbeHandler
  2 initialDelaySeconds int32
  3 timeoutSeconds int32
  4 periodSeconds int32
  5 successThreshold int32
  6 failureThreshold int32
  7 terminationGracePeriodSeconds int64 ptr
message core.v1.ProbeHandler
  1 exec core.v1.ExecAction ptr
  2 httpGet core.v1.HTTPGetAction ptr
  3 tcpSocket core.v1.TCPSocketAction ptr
  4 grpc core.v1.GRPCAction ptr
message core.v1.ResourceClaim
  1 name string
  2 request string
message core.v1.ResourceFieldSelector
  1 containerName string
  2 resource string
  3 divisor resource.Quantity
message core.v1.ResourceRequirements
  1 limits map<string,resource.Quantity>
  2 requests map<string,resource.Quantity>
  3 claims repeated core.v1.ResourceClaim
message core.v1.Secret
  1 metadata meta.v1.ObjectMeta
  5 immutable bool ptr
  2 data map<string,bytes>
  4 stringData map<string,string>
  3 type string
message core.v1.SecretEnvSource
  1 localObjectReference core.v1.LocalObjectReference
  2 optional bool ptr
message core.v1.SecretKeySelector
  1 localObjectReference core.v1.LocalObjectReference
  2 key string
  3 optional bool ptr
message core.v1.SecretVolumeSource
  1 secretName string
  2 items repeated core.v1.KeyToPath
  3 defaultMode int32 ptr
  4 optional bool ptr
message core.v1.SecurityContext
  1 capabilities core.v1.Capabilities ptr
  2 privileged bool ptr
  3 seLinuxOptions core.v1.SELinuxOptions ptr
  10 windowsOptions core.v1.WindowsSecurityContextOptions ptr
  4 runAsUser int64 ptr
  8 runAsGroup int64 ptr
  5 runAsNonRoot bool ptr
  6 readOnlyRootFilesystem bool ptr
  7 allowPrivilegeEscalation bool ptr
  9 procMount string ptr
  11 seccompProfile core.v1.SeccompProfile ptr
  12 appArmorProfile core.v1.AppArmorProfile ptr
  13 ulimits repeated core.v1.Ulimit
message core.v1.Service
  1 metadata meta.v1.ObjectMeta
  2 spec core.v1.ServiceSpec
  3 status core.v1.ServiceStatus
message core.v1.ServicePort
  1 name string
  2 protocol string
  6 appProtocol string ptr
  3 port int32
  4 targetPort intstr.IntOrString
  5 nodePort int32
message core.v1.ServiceSpec
  1 ports repeated core.v1.ServicePort
  2 selector map<string,string>
  3 clusterIP string
  18 clusterIPs repeated string
  4 type string
  5 externalIPs repeated string
  7 sessionAffinity string
  8 loadBalancerIP string
  9 loadBalancerSourceRanges repeated string
  10 externalName string
  11 externalTrafficPolicy string
  12 healthCheckNodePort int32
  13 publishNotReadyAddresses bool
  14 sessionAffinityConfig core.v1.SessionAffinityConfig ptr
  19 ipFamilies repeated string
  17 ipFamilyPolicy string ptr
  20 allocateLoadBalancerNodePorts bool ptr
  21 loadBalancerClass string ptr
  22 internalTrafficPolicy string ptr
  23 trafficDistribution string ptr
message core.v1.ServiceStatus
  1 loadBalancer core.v1.LoadBalancerStatus
  2 conditions repeated meta.v1.Condition
message core.v1.SessionAffinityConfig
  1 clientIP core.v1.ClientIPConfig ptr
message core.v1.TCPSocketAction
  1 port intstr.IntOrString
  2 host string
message core.v1.Toleration
  1 key string
  2 operator string
  3 value string
  4 effect string
  5 tolerationSeconds int64 ptr
message core.v1.TopologySpreadConstraint
  1 maxSkew int32
  2 topologyKey string
  3 whenUnsatisfiable string
  4 labelSelector meta.v1.LabelSelector ptr
  5 minDomains int32 ptr
  6 nodeAffinityPolicy string ptr
  7 nodeTaintsPolicy string ptr
  8 matchLabelKeys repeated string
message core.v1.Volume
  1 name string
  2 volumeSource core.v1.VolumeSource
message core.v1.VolumeMount
  1 name string
  2 readOnly bool
  7 recursiveReadOnly string ptr
  3 mountPath string
  4 subPath string
  5 mountPropagation string ptr
  6 subPathExpr string
message core.v1.VolumeSource
  1 hostPath core.v1.HostPathVolumeSource ptr
  2 emptyDir core.v1.EmptyDirVolumeSource ptr
  3 gcePersistentDisk core.v1.GCEPersistentDiskVolumeSource ptr
  4 awsElasticBlockStore core.v1.AWSElasticBlockStoreVolumeSource ptr
  5 gitRepo core.v1.GitRepoVolumeSource ptr
  6 secret core.v1.SecretVolumeSource ptr
  7 nfs core.v1.NFSVolumeSource ptr
  8 iscsi core.v1.ISCSIVolumeSource ptr
  9 glusterfs core.v1.GlusterfsVolumeSource ptr
  10 persistentVolumeClaim core.v1.PersistentVolumeClaimVolumeSource ptr
  11 rbd core.v1.RBDVolumeSource ptr
  12 flexVolume core.v1.FlexVolumeSource ptr
  13 cinder core.v1.CinderVolumeSource ptr
  14 cephfs core.v1.CephFSVolumeSource ptr
  15 flocker core.v1.FlockerVolumeSource ptr
  16 downwardAPI core.v1.DownwardAPIVolumeSource ptr
  17 fc core.v1.FCVolumeSource ptr
  18 azureFile core.v1.AzureFileVolumeSource ptr
  19 configMap core.v1.ConfigMapVolumeSource ptr
  20 vsphereVolume core.v1.VsphereVirtualDiskVolumeSource ptr
  21 quobyte core.v1.QuobyteVolumeSource ptr
  22 azureDisk core.v1.AzureDiskVolumeSource ptr
  23 photonPersistentDisk core.v1.PhotonPersistentDiskVolumeSource ptr
  26 projected core.v1.ProjectedVolumeSource ptr
  24 portworxVolume core.v1.PortworxVolumeSource ptr
  25 scaleIO core.v1.ScaleIOVolumeSource ptr
  27 storageos core.v1.StorageOSVolumeSource ptr
  28 csi core.v1.CSIVolumeSource ptr
  29 ephemeral core.v1.EphemeralVolumeSource ptr
  30 image core.v1.ImageVolumeSource ptr
message runtime.TypeMeta
  1 apiVersion string
  2 kind string
message runtime.Unknown
  1 typeMeta runtime.TypeMeta
  2 raw bytes
  3 contentEncoding string
  4 contentType string
message meta.v1.ObjectMeta
  1 name string
  2 generateName string
  3 namespace string
  4 selfLink string
  5 uid string
  6 resourceVersion string
  7 generation int64
  8 creationTimestamp meta.v1.Time
  9 deletionTimestamp meta.v1.Time ptr
  10 deletionGracePeriodSeconds int64 ptr
  11 labels map<string,string>
  12 annotations map<string,string>
  13 ownerReferences repeated meta.v1.OwnerReference
  14 finalizers repeated string
  17 managedFields repeated meta.v1.ManagedFieldsEntry
message meta.v1.OwnerReference
  5 apiVersion string
  1 kind string
  3 name string
  4 uid string
  6 controller bool ptr
  7 blockOwnerDeletion bool ptr
message meta.v1.ManagedFieldsEntry
  1 manager string
  2 operation string
  3 apiVersion string
  4 time meta.v1.Time ptr
  6 fieldsType string
  7 fieldsV1 meta.v1.FieldsV1 ptr
  8 subresource string
message meta.v1.FieldsV1
  1 raw bytes
message meta.v1.Time
  1 seconds int64
  2 nanos int32
message meta.v1.MicroTime
  1 seconds int64
  2 nanos int32
message meta.v1.LabelSelector
  1 matchLabels map<string,string>
  2 matchExpressions repeated meta.v1.LabelSelectorRequirement
message meta.v1.LabelSelectorRequirement
  1 key string
  2 operator string
  3 values repeated string
message meta.v1.Condition
  1 type string
  2 status string
  3 observedGeneration int64
  4 lastTransitionTime meta.v1.Time
  5 reason string
  6 message string
message intstr.IntOrString
  1 type int64
  2 intVal int32
  3 strVal string
message resource.Quantity
  1 string string
message apps.v1.Deployment
  1 metadata meta.v1.ObjectMeta
  2 spec apps.v1.DeploymentSpec
  3 status apps.v1.DeploymentStatus
message apps.v1.DeploymentSpec
  1 replicas int32 ptr
  2 selector meta.v1.LabelSelector ptr
  3 template core.v1.PodTemplateSpec
  4 strategy apps.v1.DeploymentStrategy
  5 minReadySeconds int32
  6 revisionHistoryLimit int32 ptr
  7 paused bool
  9 progressDeadlineSeconds int32 ptr
  10 podReplacementPolicy string ptr
message apps.v1.DeploymentStrategy
  1 type string
  2 rollingUpdate apps.v1.RollingUpdateDeployment ptr
message apps.v1.RollingUpdateDeployment
  1 maxUnavailable intstr.IntOrString ptr
  2 maxSurge intstr.IntOrString ptr
message apps.v1.DeploymentStatus
  1 observedGeneration int64
  2 replicas int32
  3 updatedReplicas int32
  7 readyReplicas int32
  4 availableReplicas int32
  5 unavailableReplicas int32
  9 terminatingReplicas int32 ptr
  6 conditions repeated apps.v1.DeploymentCondition
  8 collisionCount int32 ptr
message apps.v1.DeploymentCondition
  1 type string
  2 status string
  6 lastUpdateTime meta.v1.Time
  7 lastTransitionTime meta.v1.Time
  4 reason string
  5 message string
message apps.v1.ReplicaSet
  1 metadata meta.v1.ObjectMeta
  2 spec apps.v1.ReplicaSetSpec
  3 status apps.v1.ReplicaSetStatus
message apps.v1.ReplicaSetSpec
  1 replicas int32 ptr
  4 minReadySeconds int32
  2 selector meta.v1.LabelSelector ptr
  3 template core.v1.PodTemplateSpec
message apps.v1.ReplicaSetStatus
  1 replicas int32
  2 fullyLabeledReplicas int32
  4 readyReplicas int32
  5 availableReplicas int32
  7 terminatingReplicas int32 ptr
  3 observedGeneration int64
  6 conditions repeated apps.v1.ReplicaSetCondition
message apps.v1.ReplicaSetCondition
  1 type string
  2 status string
  3 lastTransitionTime meta.v1.Time
  4 reason string
  5 message string
message core.v1.SleepAction
  1 seconds int64
message core.v1.PodDNSConfigOption
  1 name string
  2 value string
)PB";

} // namespace podscape::core::apiserver
