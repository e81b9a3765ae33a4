// A controller-runtime operator that does the Notebook job Cubit's manager does
// for bench/scale.sh --operator go: each Notebook (cubit.dev/v1alpha1, Cubit's
// CRD) gets a StatefulSet and a Service of the same names, labels and owner
// reference, and a status read from its pod (phase, Ready/Reconciling/Stalled,
// readyReplicas, url). It is a benchmark reference written the way a Go operator
// usually is (typed objects, the manager's shared cache, server-side apply,
// MaxConcurrentReconciles), not part of Cubit. Built by build.sh beside it.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsac "k8s.io/client-go/applyconfigurations/apps/v1"
	coreac "k8s.io/client-go/applyconfigurations/core/v1"
	metaac "k8s.io/client-go/applyconfigurations/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

const (
	notebookLabel  = "cubit.dev/notebook"
	appliedHash    = "cubit.dev/applied" // the hash of what was last applied, as Cubit's runtime records it
	fieldManager   = "cubit-go-bench"
	notebookPort   = 8888
	servicePort    = 80
	containerName  = "notebook"
	defaultJupyter = "quay.io/jupyter/scipy-notebook:python-3.12"
	gateway        = "cubit-system/cubit-gateway" // Cubit's default notebook.gateway
	home           = "/home/jovyan"
)

// Istio's VirtualService, as Cubit routes a notebook when the API serves it.
var virtualServiceGVK = schema.GroupVersionKind{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService"}

var gv = schema.GroupVersion{Group: "cubit.dev", Version: "v1alpha1"}

// ---------------------------------------------------------------- the type

// The part of Cubit's Notebook spec this operator acts on; the rest is kept by
// the API server and ignored here (as a typed operator drops unknown fields).
type NotebookSpec struct {
	IDE       string            `json:"ide,omitempty"`
	Volumes   NotebookVolumes   `json:"volumes,omitempty"`
	Image     string            `json:"image,omitempty"`
	Stopped   bool              `json:"stopped,omitempty"`
	Resources NotebookResources `json:"resources,omitempty"`
}

// The workspace claim is on unless turned off, 10Gi unless sized (Cubit's defaults).
type NotebookVolumes struct {
	Workspace *NotebookWorkspace `json:"workspace,omitempty"`
}

type NotebookWorkspace struct {
	Enabled *bool  `json:"enabled,omitempty"`
	Size    string `json:"size,omitempty"`
}

func (s *NotebookSpec) workspace() (bool, string) {
	w := s.Volumes.Workspace
	if w == nil {
		return true, "10Gi"
	}
	size := w.Size
	if size == "" {
		size = "10Gi"
	}
	return w.Enabled == nil || *w.Enabled, size
}

type NotebookResources struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

type NotebookStatus struct {
	ObservedGeneration int64              `json:"observedGeneration,omitempty"`
	Phase              string             `json:"phase,omitempty"`
	Reason             string             `json:"reason,omitempty"`
	Message            string             `json:"message,omitempty"`
	URL                string             `json:"url,omitempty"`
	ReadyReplicas      int32              `json:"readyReplicas"`
	Conditions         []metav1.Condition `json:"conditions,omitempty"`
}

type Notebook struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              NotebookSpec   `json:"spec,omitempty"`
	Status            NotebookStatus `json:"status,omitempty"`
}

type NotebookList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Notebook `json:"items"`
}

func (in *Notebook) DeepCopyInto(out *Notebook) {
	*out = *in
	in.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	if w := in.Spec.Volumes.Workspace; w != nil {
		c := *w
		if w.Enabled != nil {
			e := *w.Enabled
			c.Enabled = &e
		}
		out.Spec.Volumes.Workspace = &c
	}
	out.Status = in.Status.DeepCopyStatus()
}

func (in *Notebook) DeepCopy() *Notebook {
	out := new(Notebook)
	in.DeepCopyInto(out)
	return out
}

func (in *Notebook) DeepCopyObject() runtime.Object { return in.DeepCopy() }

func (in *NotebookList) DeepCopyObject() runtime.Object {
	out := new(NotebookList)
	out.TypeMeta = in.TypeMeta
	in.ListMeta.DeepCopyInto(&out.ListMeta)
	out.Items = make([]Notebook, len(in.Items))
	for i := range in.Items {
		in.Items[i].DeepCopyInto(&out.Items[i])
	}
	return out
}

// ---------------------------------------------------------------- children

func labels(nb *Notebook) map[string]string {
	return map[string]string{notebookLabel: nb.Name, "app.kubernetes.io/managed-by": "cubit"}
}

func ownerRef(nb *Notebook) *metaac.OwnerReferenceApplyConfiguration {
	return metaac.OwnerReference().WithAPIVersion(gv.String()).WithKind("Notebook").WithName(nb.Name).
		WithUID(nb.UID).WithController(true).WithBlockOwnerDeletion(true)
}

func basePath(nb *Notebook) string { return fmt.Sprintf("/notebook/%s/%s/", nb.Namespace, nb.Name) }

func desiredService(nb *Notebook) *coreac.ServiceApplyConfiguration {
	return coreac.Service(nb.Name, nb.Namespace).WithLabels(labels(nb)).WithOwnerReferences(ownerRef(nb)).
		WithSpec(coreac.ServiceSpec().WithSelector(map[string]string{notebookLabel: nb.Name}).
			WithPorts(coreac.ServicePort().WithName("http-notebook").WithPort(servicePort).
				WithTargetPort(intstr.FromInt32(notebookPort)).WithProtocol(corev1.ProtocolTCP)))
}

func desiredClaim(nb *Notebook, size string) *coreac.PersistentVolumeClaimApplyConfiguration {
	return coreac.PersistentVolumeClaim(nb.Name+"-workspace", nb.Namespace).WithLabels(labels(nb)).
		WithOwnerReferences(ownerRef(nb)).
		WithSpec(coreac.PersistentVolumeClaimSpec().WithAccessModes(corev1.ReadWriteOnce).
			WithResources(coreac.VolumeResourceRequirements().
				WithRequests(corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)})))
}

// The route Cubit writes for a Jupyter notebook: the base URL to the Service.
func desiredVirtualService(nb *Notebook) *unstructured.Unstructured {
	base := basePath(nb)
	host := fmt.Sprintf("%s.%s.svc.cluster.local", nb.Name, nb.Namespace)
	o := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": nb.Name, "namespace": nb.Namespace},
		"spec": map[string]any{
			"hosts":    []any{"*"},
			"gateways": []any{gateway},
			"http": []any{map[string]any{
				"match":   []any{map[string]any{"uri": map[string]any{"prefix": base}}},
				"rewrite": map[string]any{"uri": base},
				"route": []any{map[string]any{"destination": map[string]any{
					"host": host, "port": map[string]any{"number": int64(servicePort)}}}},
				"timeout": "300s",
			}},
		},
	}}
	o.SetGroupVersionKind(virtualServiceGVK)
	o.SetLabels(labels(nb))
	o.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: gv.String(), Kind: "Notebook", Name: nb.Name,
		UID: nb.UID, Controller: ptr(true), BlockOwnerDeletion: ptr(true)}})
	return o
}

func vsType() *unstructured.Unstructured {
	o := &unstructured.Unstructured{}
	o.SetGroupVersionKind(virtualServiceGVK)
	return o
}

func ptr[T any](v T) *T { return &v }

// The same pod as Cubit's for a Jupyter notebook: command, environment,
// resources, probes, /dev/shm.
func desiredStatefulSet(nb *Notebook) *appsac.StatefulSetApplyConfiguration {
	base := basePath(nb)
	image := nb.Spec.Image
	if image == "" {
		image = defaultJupyter
	}
	res := coreac.ResourceRequirements()
	req, lim := corev1.ResourceList{}, corev1.ResourceList{}
	// The admission webhook validated both; an unparsable one is left out.
	if q, err := resource.ParseQuantity(nb.Spec.Resources.CPU); err == nil {
		req[corev1.ResourceCPU] = q
	}
	if q, err := resource.ParseQuantity(nb.Spec.Resources.Memory); err == nil {
		req[corev1.ResourceMemory] = q
		lim[corev1.ResourceMemory] = q
	}
	if len(req) > 0 {
		res.WithRequests(req)
	}
	if len(lim) > 0 {
		res.WithLimits(lim)
	}
	c := coreac.Container().WithName(containerName).WithImage(image).
		WithPorts(coreac.ContainerPort().WithName("notebook-port").WithContainerPort(notebookPort).WithProtocol(corev1.ProtocolTCP)).
		WithCommand("jupyter", "lab").
		WithArgs("--ServerApp.ip=0.0.0.0", fmt.Sprintf("--ServerApp.port=%d", notebookPort),
			"--ServerApp.base_url="+base, "--ServerApp.root_dir=/home/jovyan", "--IdentityProvider.token=",
			"--ServerApp.password=", "--ServerApp.allow_origin=*", "--ServerApp.open_browser=False").
		WithEnv(coreac.EnvVar().WithName("NB_PREFIX").WithValue(base)).
		WithResources(res).
		WithReadinessProbe(coreac.Probe().WithHTTPGet(coreac.HTTPGetAction().WithPath(base + "api").
			WithPort(intstr.FromInt32(notebookPort))).WithPeriodSeconds(5).WithFailureThreshold(3)).
		WithLivenessProbe(coreac.Probe().WithTCPSocket(coreac.TCPSocketAction().WithPort(intstr.FromInt32(notebookPort))).
			WithInitialDelaySeconds(10).WithPeriodSeconds(10).WithFailureThreshold(6)).
		WithVolumeMounts(coreac.VolumeMount().WithName("dshm").WithMountPath("/dev/shm"))
	volumes := []*coreac.VolumeApplyConfiguration{}
	if on, _ := nb.Spec.workspace(); on {
		c.VolumeMounts = append([]coreac.VolumeMountApplyConfiguration{*coreac.VolumeMount().WithName("workspace").
			WithMountPath(home)}, c.VolumeMounts...)
		volumes = append(volumes, coreac.Volume().WithName("workspace").WithPersistentVolumeClaim(
			coreac.PersistentVolumeClaimVolumeSource().WithClaimName(nb.Name+"-workspace")))
	}
	volumes = append(volumes, coreac.Volume().WithName("dshm").
		WithEmptyDir(coreac.EmptyDirVolumeSource().WithMedium(corev1.StorageMediumMemory)))
	replicas := int32(1)
	if nb.Spec.Stopped {
		replicas = 0
	}
	return appsac.StatefulSet(nb.Name, nb.Namespace).WithLabels(labels(nb)).WithOwnerReferences(ownerRef(nb)).
		WithSpec(appsac.StatefulSetSpec().WithReplicas(replicas).WithServiceName(nb.Name).
			WithSelector(metaac.LabelSelector().WithMatchLabels(map[string]string{notebookLabel: nb.Name})).
			WithTemplate(coreac.PodTemplateSpec().WithLabels(labels(nb)).
				WithSpec(coreac.PodSpec().WithSecurityContext(coreac.PodSecurityContext().WithFSGroup(100)).
					WithContainers(c).WithVolumes(volumes...))))
}

// ---------------------------------------------------------------- reconcile

type reconciler struct {
	client.Client
	recorder record.EventRecorder
}

// apply sends the child unless the cached one already carries the hash of
// the same desired object (what Cubit's runtime does too): the steady state
// costs no request.
func (r *reconciler) apply(ctx context.Context, live client.Object, desired runtime.ApplyConfiguration,
	setAnnotation func(map[string]string)) error {
	raw, err := json.Marshal(desired)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(raw)
	hash := hex.EncodeToString(sum[:16])
	if live.GetAnnotations()[appliedHash] == hash {
		return nil
	}
	setAnnotation(map[string]string{appliedHash: hash})
	return r.Apply(ctx, desired, client.FieldOwner(fieldManager), client.ForceOwnership)
}

func (r *reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	nb := &Notebook{}
	if err := r.Get(ctx, req.NamespacedName, nb); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !nb.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil // garbage collection removes the children
	}
	sts, svc := &appsv1.StatefulSet{}, &corev1.Service{}
	if err := r.getOrEmpty(ctx, req.NamespacedName, sts); err != nil {
		return reconcile.Result{}, err
	}
	if err := r.getOrEmpty(ctx, req.NamespacedName, svc); err != nil {
		return reconcile.Result{}, err
	}
	dsts := desiredStatefulSet(nb)
	if err := r.apply(ctx, sts, dsts, func(a map[string]string) { dsts.WithAnnotations(a) }); err != nil {
		return reconcile.Result{}, err
	}
	dsvc := desiredService(nb)
	if err := r.apply(ctx, svc, dsvc, func(a map[string]string) { dsvc.WithAnnotations(a) }); err != nil {
		return reconcile.Result{}, err
	}
	if on, size := nb.Spec.workspace(); on {
		pvc := &corev1.PersistentVolumeClaim{}
		if err := r.getOrEmpty(ctx, types.NamespacedName{Namespace: nb.Namespace, Name: nb.Name + "-workspace"}, pvc); err != nil {
			return reconcile.Result{}, err
		}
		dpvc := desiredClaim(nb, size)
		if err := r.apply(ctx, pvc, dpvc, func(a map[string]string) { dpvc.WithAnnotations(a) }); err != nil {
			return reconcile.Result{}, err
		}
	}
	vs := &unstructured.Unstructured{}
	vs.SetGroupVersionKind(virtualServiceGVK)
	if err := r.getOrEmpty(ctx, req.NamespacedName, vs); err != nil {
		return reconcile.Result{}, err
	}
	dvs := desiredVirtualService(nb)
	if err := r.apply(ctx, vs, client.ApplyConfigurationFromUnstructured(dvs), func(a map[string]string) {
		dvs.SetAnnotations(a)
	}); err != nil {
		return reconcile.Result{}, err
	}
	pod := &corev1.Pod{}
	if err := r.getOrEmpty(ctx, types.NamespacedName{Namespace: nb.Namespace, Name: nb.Name + "-0"}, pod); err != nil {
		return reconcile.Result{}, err
	}
	if pod.Labels[notebookLabel] != nb.Name {
		pod = nil
	}
	return reconcile.Result{}, r.writeStatus(ctx, nb, sts, pod)
}

func (r *reconciler) getOrEmpty(ctx context.Context, key types.NamespacedName, obj client.Object) error {
	if err := r.Get(ctx, key, obj); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

// The pod's state in Cubit's vocabulary (docs/status.md): Running and Ready
// is READY; otherwise PROGRESSING with the kubelet's reason quoted, or
// FAILED for an image that cannot be pulled; Stopped is SUSPENDED.
func podPhase(nb *Notebook, pod *corev1.Pod) (phase, state, reason, message string) {
	switch {
	case nb.Spec.Stopped:
		return "Stopped", "SUSPENDED", "Stopped", "the notebook is stopped"
	case pod == nil:
		return "Pending", "PROGRESSING", "Creating", "creating the StatefulSet and its Service"
	case pod.Status.Phase == corev1.PodRunning && podReady(pod):
		return "Running", "READY", "Running", "the IDE is ready at " + basePath(nb)
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			if w.Reason == "ErrImagePull" || w.Reason == "ImagePullBackOff" || w.Reason == "InvalidImageName" {
				return "Pending", "FAILED", w.Reason, w.Message
			}
			return "Pending", "PROGRESSING", w.Reason, w.Message
		}
	}
	if pod.Status.Phase == corev1.PodPending {
		return "Pending", "PROGRESSING", "Pending", "the pod is pending"
	}
	return "Starting", "PROGRESSING", "ContainersNotReady", "the IDE is starting"
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (r *reconciler) writeStatus(ctx context.Context, nb *Notebook, sts *appsv1.StatefulSet, pod *corev1.Pod) error {
	phase, state, reason, message := podPhase(nb, pod)
	st := nb.Status.DeepCopyStatus()
	st.ObservedGeneration = nb.Generation
	st.Phase, st.Reason, st.Message, st.URL = phase, reason, message, basePath(nb)
	st.ReadyReplicas = sts.Status.ReadyReplicas
	cond := func(t string, on bool) {
		s := metav1.ConditionFalse
		if on {
			s = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: t, Status: s, Reason: reason,
			Message: message, ObservedGeneration: nb.Generation})
	}
	cond("Ready", state == "READY")
	cond("Reconciling", state == "PROGRESSING")
	cond("Stalled", state == "FAILED")
	if equality.Semantic.DeepEqual(st, nb.Status) {
		return nil
	}
	changed := reason != nb.Status.Reason
	orig := nb.DeepCopy()
	nb.Status = st
	// A merge patch of the status conditional on the resourceVersion read: a
	// status decided from a stale object is refused and decided again.
	if err := r.Status().Patch(ctx, nb, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		return err
	}
	if changed && state == "READY" {
		r.recorder.Eventf(nb, corev1.EventTypeNormal, "Running", "the notebook is ready at %s", basePath(nb))
	} else if changed && state == "FAILED" {
		r.recorder.Event(nb, corev1.EventTypeWarning, reason, message)
	}
	return nil
}

func (s NotebookStatus) DeepCopyStatus() NotebookStatus {
	out := s
	out.Conditions = append([]metav1.Condition(nil), s.Conditions...)
	return out
}

// ---------------------------------------------------------------- main

func main() {
	var metricsAddr, probeAddr, namespace string
	var workers int
	var qps float64
	var burst int
	var leaderElect bool
	flag.StringVar(&metricsAddr, "metrics-bind-address", "127.0.0.1:8080", "address of /metrics")
	flag.StringVar(&probeAddr, "health-probe-bind-address", "127.0.0.1:8081", "address of /healthz and /readyz")
	flag.StringVar(&namespace, "leader-election-namespace", "cubit-system", "namespace of the leader election Lease")
	flag.IntVar(&workers, "workers", 4, "MaxConcurrentReconciles (Cubit's Notebook controller has 4 workers)")
	// controller-runtime's default is no client-side rate limit (QPS -1: the
	// API server's priority and fairness decides); a flag to set one.
	flag.Float64Var(&qps, "kube-api-qps", -1, "client-side request rate; -1: none (controller-runtime's default)")
	flag.IntVar(&burst, "kube-api-burst", 0, "client-side burst")
	flag.BoolVar(&leaderElect, "leader-elect", true, "take a Lease before reconciling, as Cubit's manager does")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("go-operator")

	// --kubeconfig is controller-runtime's own flag (pkg/client/config).
	kubeconfig := flag.Lookup("kubeconfig").Value.String()
	if err := run(kubeconfig, metricsAddr, probeAddr, namespace, workers, qps, burst, leaderElect); err != nil {
		log.Error(err, "exiting")
		os.Exit(1)
	}
}

func run(kubeconfig, metricsAddr, probeAddr, namespace string, workers int, qps float64, burst int,
	leaderElect bool) error {
	if kubeconfig == "" {
		return errors.New("--kubeconfig: required (the manager's identity, as bench/scale.sh passes it)")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("--kubeconfig %s: %w", kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = float32(qps), burst
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	scheme.AddKnownTypes(gv, &Notebook{}, &NotebookList{})
	metav1.AddToGroupVersion(scheme, gv)

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme,
		// The VirtualService is read as unstructured: from the cache too.
		Client:                        client.Options{Cache: &client.CacheOptions{Unstructured: true}},
		Metrics:                       metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress:        probeAddr,
		LeaderElection:                leaderElect,
		LeaderElectionID:              "cubit-go-bench",
		LeaderElectionNamespace:       namespace,
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return err
	}
	r := &reconciler{Client: mgr.GetClient(), recorder: mgr.GetEventRecorderFor("cubit-go-bench")}
	// A pod maps to the notebook named by its label (Cubit's map_pod).
	podToNotebook := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		name := o.GetLabels()[notebookLabel]
		if name == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
	})
	err = ctrl.NewControllerManagedBy(mgr).Named("notebook").
		For(&Notebook{}).
		Owns(&appsv1.StatefulSet{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.PersistentVolumeClaim{}).
		Owns(vsType()).
		Watches(&corev1.Pod{}, podToNotebook, builder.WithPredicates()).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
		Complete(r)
	if err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", func(*http.Request) error { return nil }); err != nil {
		return err
	}
	// Ready once the informers of every watched kind have synced: what
	// Cubit's /readyz means, and what bench/scale.sh times.
	watched := []client.Object{&Notebook{}, &appsv1.StatefulSet{}, &corev1.Service{},
		&corev1.PersistentVolumeClaim{}, vsType(), &corev1.Pod{}}
	if err := mgr.AddReadyzCheck("informers", func(req *http.Request) error {
		for _, o := range watched {
			inf, err := mgr.GetCache().GetInformer(req.Context(), o, cache.BlockUntilSynced(false))
			if err != nil {
				return err
			}
			if !inf.HasSynced() {
				return fmt.Errorf("%T: not synced", o)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	return mgr.Start(ctrl.SetupSignalHandler())
}
