package main

import (
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
)

// What the ClusterServiceVersion says about Pylon beyond config/: the text
// OperatorHub shows and the descriptors its console uses to render forms.

const csvDescription = `Pylon exposes web applications. An application team writes one short WebApp;
Pylon turns it into the Deployment, Service, HorizontalPodAutoscaler,
PodDisruptionBudget, route (Gateway API HTTPRoute and ListenerSet, or Ingress),
cert-manager Certificate and DNS records that serve it, keeps them that way and
reports their state in the WebApp's status (kstatus and Argo CD compatible).

Platform teams describe, with cluster-scoped ExposureClasses, which Gateway or
IngressClass, domains, namespaces, certificate issuer and DNS settings a class
of apps gets.

Optional APIs (Gateway API, cert-manager, external-dns) are discovered at run
time; a WebApp that needs a missing one reports it in a condition.

This bundle installs the operator. Pylon's bundled gateway (a Gateway API and
Ingress data plane) is installed with the Helm chart or dist/install.yaml; any
other Gateway API or Ingress implementation works too.`

// descriptor is a shorthand for a spec or status descriptor.
func descriptor(path, name, desc string, xs ...string) operatorsv1alpha1.SpecDescriptor {
	return operatorsv1alpha1.SpecDescriptor{Path: path, DisplayName: name, Description: desc, XDescriptors: xs}
}

func statusDescriptor(path, name, desc string, xs ...string) operatorsv1alpha1.StatusDescriptor {
	return operatorsv1alpha1.StatusDescriptor{Path: path, DisplayName: name, Description: desc, XDescriptors: xs}
}

const (
	xText       = "urn:alm:descriptor:com.tectonic.ui:text"
	xNumber     = "urn:alm:descriptor:com.tectonic.ui:number"
	xPodCount   = "urn:alm:descriptor:com.tectonic.ui:podCount"
	xLink       = "urn:alm:descriptor:org.w3:link"
	xConditions = "urn:alm:descriptor:io.kubernetes.conditions"
)

// ownedCRDs describes Pylon's CRDs; generateBundle fails when config/ has
// a CRD not listed here, so a new API is not shipped undescribed.
var ownedCRDs = map[string]operatorsv1alpha1.CRDDescription{
	"webapps.pylon.dev": {
		DisplayName: "Web App",
		Description: "A web application: its image, size, hostname, exposure class, TLS and canary; Pylon creates and owns everything that serves it.",
		Resources: []operatorsv1alpha1.APIResourceReference{
			{Kind: "Deployment", Version: "v1"}, {Kind: "Service", Version: "v1"},
			{Kind: "HorizontalPodAutoscaler", Version: "v2"}, {Kind: "PodDisruptionBudget", Version: "v1"},
			{Kind: "HTTPRoute", Version: "v1"}, {Kind: "ListenerSet", Version: "v1"},
			{Kind: "Ingress", Version: "v1"}, {Kind: "Certificate", Version: "v1"},
			{Kind: "DNSEndpoint", Version: "v1alpha1"},
		},
		SpecDescriptors: []operatorsv1alpha1.SpecDescriptor{
			descriptor("image", "Image", "Container image of the app.", xText),
			descriptor("port", "Port", "Container port the app listens on.", xNumber),
			descriptor("replicas", "Replicas", "Fixed number of Pods when autoscaling is not set.", xPodCount),
			descriptor("hostname", "Hostname", "Hostname the app is served on.", xText),
			descriptor("exposure.class", "Exposure Class", "ExposureClass to use; empty: the cluster's default.", xText),
			descriptor("tls.mode", "TLS Mode", "Disabled, Auto (cert-manager) or Secret (your own).",
				"urn:alm:descriptor:com.tectonic.ui:select:Disabled", "urn:alm:descriptor:com.tectonic.ui:select:Auto", "urn:alm:descriptor:com.tectonic.ui:select:Secret"),
			descriptor("canary.weight", "Canary Weight", "Percent of traffic sent to the canary image.", xNumber),
		},
		StatusDescriptors: []operatorsv1alpha1.StatusDescriptor{
			statusDescriptor("url", "URL", "Where the app is served.", xLink),
			statusDescriptor("readyReplicas", "Ready Replicas", "Ready Pods of the stable Deployment.", xText),
			statusDescriptor("conditions", "Conditions", "Ready, Available, Routed, CertificateReady, DNSReady and more.", xConditions),
		},
	},
	"exposureclasses.pylon.dev": {
		DisplayName: "Exposure Class",
		Description: "A platform team's contract for exposing WebApps: Gateway or IngressClass, allowed domains and namespaces, certificate issuer and DNS.",
		SpecDescriptors: []operatorsv1alpha1.SpecDescriptor{
			descriptor("type", "Type", "Gateway, Ingress or ClusterLocal.",
				"urn:alm:descriptor:com.tectonic.ui:select:Gateway", "urn:alm:descriptor:com.tectonic.ui:select:Ingress", "urn:alm:descriptor:com.tectonic.ui:select:ClusterLocal"),
			descriptor("allowedDomains", "Allowed Domains", "Hostnames WebApps of this class may use.", xText),
			descriptor("ingressClassName", "Ingress Class", "IngressClass for type Ingress.", xText),
		},
		StatusDescriptors: []operatorsv1alpha1.StatusDescriptor{
			statusDescriptor("conditions", "Conditions", "Whether the class is accepted and usable.", xConditions),
		},
	},
	"hostnameclaims.pylon.dev": {
		DisplayName: "Hostname Claim",
		Description: "Internal: records which WebApp holds a hostname cluster-wide, so two WebApps never serve the same hostname.",
		SpecDescriptors: []operatorsv1alpha1.SpecDescriptor{
			descriptor("hostname", "Hostname", "The claimed hostname.", xText),
			descriptor("webApp.name", "WebApp", "The WebApp holding the hostname.", xText),
		},
	},
}

// almExamplesFiles are the samples shown as examples, from config/samples.
// HostnameClaim has none: it is internal (Pylon alone writes it; the CSV
// lists it in operators.operatorframework.io/internal-objects), and an
// example would invite users to create one.
var almExamplesFiles = []string{
	"config/samples/pylon_v1alpha1_exposureclass.yaml",
	"config/samples/pylon_v1alpha1_webapp.yaml",
}
