// Package fakeissuer is a test stand-in for cert-manager's controllers: it
// signs cert-manager Certificates that name its ClusterIssuer with the local
// cluster's test CA, writes their kubernetes.io/tls Secrets and sets their
// Ready condition at the current generation, as cert-manager's CA issuer
// would. It exists because cert-manager's controller binary could not be
// built here within the time budget; it is named "fake" so no one mistakes
// it for cert-manager.
package fakeissuer
