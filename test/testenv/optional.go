package testenv

// OptionalCRDPaths lists the CRD files of the optional APIs opts asks for
// (not Pylon's own), for harnesses that install one API by itself, such as
// the local cluster installing cert-manager's CRDs before starting it.
func OptionalCRDPaths(root string, opts Options) ([]string, error) {
	return optionalCRDs(root, opts)
}
