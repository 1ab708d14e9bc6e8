package localcluster

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// writePKI creates the cluster CA, the API server's serving certificate and
// the service-account signing key.
func (c *Cluster) writePKI() error {
	ca, err := NewCA("localcluster-ca")
	if err != nil {
		return err
	}
	c.CA = ca
	crt, key, err := ca.Issue(CertRequest{
		CommonName: "kube-apiserver", Server: true,
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		IPs:      []net.IP{net.ParseIP("127.0.0.1")},
	})
	if err != nil {
		return err
	}
	saKey, saPub, err := serviceAccountKey()
	if err != nil {
		return err
	}
	dir := filepath.Join(c.Dir, "pki")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for name, b := range map[string][]byte{"ca.crt": ca.CertPEM, "apiserver.crt": crt, "apiserver.key": key, "sa.key": saKey, "sa.pub": saPub} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// userConfig returns a client configuration authenticated by a client
// certificate for user in groups. A ServiceAccount's user name
// (system:serviceaccount:<ns>:<name>) makes RBAC bindings to that
// ServiceAccount apply, so missing permissions fail as they would in a Pod.
func (c *Cluster) userConfig(user string, groups []string) (*rest.Config, error) {
	crt, key, err := c.CA.Issue(CertRequest{CommonName: user, Organizations: groups, Client: true})
	if err != nil {
		return nil, err
	}
	return &rest.Config{
		Host: c.APIServerURL(),
		TLSClientConfig: rest.TLSClientConfig{
			CAData: c.CA.CertPEM, CertData: crt, KeyData: key,
		},
	}, nil
}

// UserConfig is userConfig for tests.
func (c *Cluster) UserConfig(user string, groups []string) (*rest.Config, error) {
	return c.userConfig(user, groups)
}

// WriteKubeconfig writes a kubeconfig for user and returns its path.
func (c *Cluster) WriteKubeconfig(user string, groups []string) (string, error) {
	return c.writeKubeconfigAs(sanitize(user), user, groups)
}

// writeKubeconfigAs writes a kubeconfig for user in groups to
// kubeconfigs/<file>.kubeconfig (two processes may share a user).
func (c *Cluster) writeKubeconfigAs(file, user string, groups []string) (string, error) {
	cfg, err := c.userConfig(user, groups)
	if err != nil {
		return "", err
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: user}
	kc.CurrentContext = "local"
	path := filepath.Join(c.Dir, "kubeconfigs", file+".kubeconfig")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return "", fmt.Errorf("write kubeconfig of %s: %w", user, err)
	}
	return path, nil
}

func sanitize(s string) string {
	out := []rune(s)
	for i, r := range out {
		if r == ':' || r == '/' {
			out[i] = '_'
		}
	}
	return string(out)
}
