package exposureclass

import (
	"context"
	"fmt"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	pylonv1alpha1 "github.com/pylon-dev/pylon/api/v1alpha1"
	"github.com/pylon-dev/pylon/internal/capabilities"
	"github.com/pylon-dev/pylon/internal/conditions"
	"github.com/pylon-dev/pylon/internal/controller/applier"
)

// ConditionDefault is present on classes annotated as the default: True when
// the class is the only one, False (MultipleDefaultClasses) otherwise.
const ConditionDefault = "Default"

// Reconciler reconciles ExposureClasses.
type Reconciler struct {
	client.Client
	Caps *capabilities.Set

	ctrl  controller.Controller
	mgr   ctrl.Manager
	kick  chan event.GenericEvent
	watch bool
}

// +kubebuilder:rbac:groups=pylon.dev,resources=exposureclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=pylon.dev,resources=exposureclasses/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingressclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gateways,verbs=get;list;watch

// Reconcile writes a class's Accepted (and Default) conditions.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	class := &pylonv1alpha1.ExposureClass{}
	if err := r.Get(ctx, req.NamespacedName, class); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	accepted, err := r.accepted(ctx, class)
	if err != nil {
		return ctrl.Result{}, err
	}
	want := []metav1.Condition{accepted}
	if class.Annotations[pylonv1alpha1.AnnotationIsDefaultClass] == "true" {
		d, err := r.defaultCondition(ctx, class)
		if err != nil {
			return ctrl.Result{}, err
		}
		want = append(want, d)
	}
	for i := range want {
		want[i].ObservedGeneration = class.Generation
	}
	next := pylonv1alpha1.ExposureClassStatus{
		ObservedGeneration: class.Generation,
		Conditions:         conditions.Merge(class.Status.Conditions, want, metav1.Now()),
	}
	if equality.Semantic.DeepEqual(class.Status, next) {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, applier.ApplyStatus(ctx, r.Client, class, pylonv1alpha1.GroupVersion.WithKind("ExposureClass"), &next)
}

func (r *Reconciler) accepted(ctx context.Context, class *pylonv1alpha1.ExposureClass) (metav1.Condition, error) {
	c := metav1.Condition{Type: pylonv1alpha1.ConditionAccepted, Status: metav1.ConditionTrue, Reason: pylonv1alpha1.ReasonAccepted}
	switch class.Spec.Type {
	case pylonv1alpha1.ExposureGateway:
		if !r.Caps.Has(capabilities.GatewayAPI) {
			c.Status, c.Reason, c.Message = metav1.ConditionFalse, pylonv1alpha1.ReasonAPINotInstalled, capabilities.NotInstalledMessage(capabilities.GatewayAPI)
			return c, nil
		}
		ref := class.Spec.Gateway
		err := r.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, &gwv1.Gateway{})
		switch {
		case apierrors.IsNotFound(err):
			c.Status, c.Reason, c.Message = metav1.ConditionFalse, pylonv1alpha1.ReasonGatewayNotFound, fmt.Sprintf("Gateway %s/%s does not exist", ref.Namespace, ref.Name)
		case err != nil:
			return c, err
		default:
			c.Message = fmt.Sprintf("WebApps of this class attach HTTPRoutes to Gateway %s/%s", ref.Namespace, ref.Name)
		}
	case pylonv1alpha1.ExposureIngress:
		err := r.Get(ctx, types.NamespacedName{Name: class.Spec.IngressClassName}, &networkingv1.IngressClass{})
		switch {
		case apierrors.IsNotFound(err):
			c.Status, c.Reason, c.Message = metav1.ConditionFalse, pylonv1alpha1.ReasonIngressClassNotFound, fmt.Sprintf("IngressClass %s does not exist", class.Spec.IngressClassName)
		case err != nil:
			return c, err
		default:
			c.Message = "WebApps of this class get Ingresses of IngressClass " + class.Spec.IngressClassName
		}
	default:
		c.Message = "WebApps of this class are reachable inside the cluster only"
	}
	return c, nil
}

func (r *Reconciler) defaultCondition(ctx context.Context, class *pylonv1alpha1.ExposureClass) (metav1.Condition, error) {
	list := &pylonv1alpha1.ExposureClassList{}
	if err := r.List(ctx, list); err != nil {
		return metav1.Condition{}, err
	}
	var others []string
	for _, c := range list.Items {
		if c.Name != class.Name && c.Annotations[pylonv1alpha1.AnnotationIsDefaultClass] == "true" {
			others = append(others, c.Name)
		}
	}
	if len(others) == 0 {
		return metav1.Condition{Type: ConditionDefault, Status: metav1.ConditionTrue, Reason: "Default", Message: "WebApps that name no class use this one"}, nil
	}
	sort.Strings(others)
	return metav1.Condition{Type: ConditionDefault, Status: metav1.ConditionFalse, Reason: pylonv1alpha1.ReasonMultipleDefaultClasses,
		Message: "ExposureClasses " + strings.Join(others, ", ") + " are marked as the default too: WebApps that name no class get no route until only one is"}, nil
}

// SetupWithManager watches classes, IngressClasses and (when served)
// Gateways; any of them may change any class's verdict.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	all := handler.EnqueueRequestsFromMapFunc(r.allClasses)
	r.kick = make(chan event.GenericEvent)
	c, err := ctrl.NewControllerManagedBy(mgr).
		For(&pylonv1alpha1.ExposureClass{}).
		Watches(&pylonv1alpha1.ExposureClass{}, all).
		Watches(&networkingv1.IngressClass{}, all).
		WatchesRawSource(source.Channel(r.kick, &handler.EnqueueRequestForObject{})).
		Named("exposureclass").
		Build(r)
	if err != nil {
		return err
	}
	r.ctrl, r.mgr = c, mgr
	if r.Caps.Has(capabilities.GatewayAPI) {
		return r.watchGateways()
	}
	return nil
}

// APIAdded starts watching Gateways once the Gateway API is installed, and
// looks at every class again.
func (r *Reconciler) APIAdded(ctx context.Context, api capabilities.API) error {
	if api.Name != capabilities.GatewayAPI.Name {
		return nil
	}
	if err := r.watchGateways(); err != nil {
		return err
	}
	list := &pylonv1alpha1.ExposureClassList{}
	if err := r.List(ctx, list); err != nil {
		return err
	}
	go func() {
		for i := range list.Items {
			select {
			case r.kick <- event.GenericEvent{Object: &list.Items[i]}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return nil
}

func (r *Reconciler) watchGateways() error {
	if r.watch {
		return nil
	}
	r.watch = true
	return r.ctrl.Watch(source.Kind(r.mgr.GetCache(), client.Object(&gwv1.Gateway{}), handler.EnqueueRequestsFromMapFunc(r.allClasses)))
}

func (r *Reconciler) allClasses(ctx context.Context, _ client.Object) []reconcile.Request {
	list := &pylonv1alpha1.ExposureClassList{}
	if err := r.List(ctx, list); err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for _, c := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: c.Name}})
	}
	return out
}
