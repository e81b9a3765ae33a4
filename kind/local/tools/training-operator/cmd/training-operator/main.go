// Command training-operator runs the Kubeflow training operator's v1 controllers and
// validating webhooks (TFJob, PyTorchJob, MPIJob, XGBoostJob) against kind/local.
//
// Upstream's main (cmd/training-operator.v1) binds its webhook server to every
// interface and makes its own certificates for an in-cluster Service. kind/local has
// no Services that can be dialled, so this main wires the same upstream controllers
// and webhooks to a server on 127.0.0.1 with a certificate made by up.sh; the
// apiserver reaches it by URL.
package main

import (
	"flag"
	"fmt"
	"github.com/kubeflow/training-operator/pkg/config"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	volcanov1beta1 "volcano.sh/apis/pkg/apis/scheduling/v1beta1"
	volcanoclient "volcano.sh/apis/pkg/client/clientset/versioned"

	kubeflowv1 "github.com/kubeflow/training-operator/pkg/apis/kubeflow.org/v1"
	controllerv1 "github.com/kubeflow/training-operator/pkg/controller.v1"
	"github.com/kubeflow/training-operator/pkg/controller.v1/common"
	"github.com/kubeflow/training-operator/pkg/webhooks"
)

func main() {
	var (
		metricsAddr = flag.String("metrics-bind-address", "127.0.0.1:8080", "address of the metrics endpoint")
		probeAddr   = flag.String("health-probe-bind-address", "127.0.0.1:8081", "address of /healthz and /readyz")
		webhookHost = flag.String("webhook-host", "127.0.0.1", "address the webhook server listens on")
		webhookPort = flag.Int("webhook-port", 9443, "port of the webhook server")
		certDir     = flag.String("webhook-cert-dir", "", "directory holding tls.crt and tls.key for the webhook server")
		kinds       = flag.String("kinds", "TFJob,PyTorchJob,MPIJob,XGBoostJob", "comma-separated job kinds to reconcile")
		gang        = flag.String("gang-scheduler-name", "", "\"volcano\" to create Volcano PodGroups; empty for none")
		threads     = flag.Int("controller-threads", 2, "worker threads per controller")
	)
	opts := zap.Options{Development: true}
	// The operator's own settings, with upstream's defaults: without them the
	// PyTorchJob workers' init container (which waits for the master) has no image.
	flag.StringVar(&config.Config.PyTorchInitContainerImage, "pytorch-init-container-image",
		config.PyTorchInitContainerImageDefault, "image of the init container of PyTorchJob workers")
	flag.StringVar(&config.Config.PyTorchInitContainerTemplateFile, "pytorch-init-container-template-file",
		config.PyTorchInitContainerTemplateFileDefault, "template of that init container")
	flag.IntVar(&config.Config.PyTorchInitContainerMaxTries, "pytorch-init-container-max-tries",
		config.PyTorchInitContainerMaxTriesDefault, "tries of that init container")
	flag.StringVar(&config.Config.MPIKubectlDeliveryImage, "mpi-kubectl-delivery-image",
		config.MPIKubectlDeliveryImageDefault, "image delivering kubectl to MPIJob launchers")
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(kubeflowv1.AddToScheme(scheme))
	utilruntime.Must(volcanov1beta1.AddToScheme(scheme))

	cfg := ctrl.GetConfigOrDie()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: *metricsAddr},
		HealthProbeBindAddress: *probeAddr,
		WebhookServer: webhook.NewServer(webhook.Options{
			Host:    *webhookHost,
			Port:    *webhookPort,
			CertDir: *certDir,
		}),
	})
	if err != nil {
		log.Error(err, "cannot create manager")
		os.Exit(1)
	}

	gangSetup := common.GenNonGangSchedulerSetupFunc()
	if strings.EqualFold(*gang, string(common.GangSchedulerVolcano)) {
		gangSetup = common.GenVolcanoSetupFunc(volcanoclient.NewForConfigOrDie(cfg))
	} else if *gang != "" {
		log.Error(fmt.Errorf("unsupported gang scheduler %q", *gang), "bad flag")
		os.Exit(2)
	}

	for _, kind := range strings.Split(*kinds, ",") {
		kind = strings.TrimSpace(kind)
		setupReconciler, ok := controllerv1.SupportedSchemeReconciler[kind]
		setupWebhook, okWebhook := webhooks.SupportedSchemeWebhook[kind]
		if !ok || !okWebhook {
			log.Error(fmt.Errorf("unknown kind %q", kind), "bad flag")
			os.Exit(2)
		}
		if err := setupReconciler(mgr, gangSetup, *threads); err != nil {
			log.Error(err, "cannot set up controller", "kind", kind)
			os.Exit(1)
		}
		if err := setupWebhook(mgr); err != nil {
			log.Error(err, "cannot set up webhook", "kind", kind)
			os.Exit(1)
		}
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		log.Error(err, "cannot add health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", mgr.GetWebhookServer().StartedChecker()); err != nil {
		log.Error(err, "cannot add ready check")
		os.Exit(1)
	}
	log.Info("starting", "kinds", *kinds)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "manager stopped")
		os.Exit(1)
	}
}
