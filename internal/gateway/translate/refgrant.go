package translate

// refAllowed reports whether an object of fromGroup/fromKind in fromNS may
// reference toGroup/toKind toNS/toName. Same-namespace references are always
// allowed; cross-namespace ones need a ReferenceGrant in the target
// namespace whose from and to both match.
func (ix *index) refAllowed(fromGroup, fromKind, fromNS, toGroup, toKind, toNS, toName string) bool {
	if fromNS == toNS {
		return true
	}
	for _, g := range ix.grants {
		if g.Namespace != toNS {
			continue
		}
		fromOK := false
		for _, f := range g.Spec.From {
			if string(f.Group) == fromGroup && string(f.Kind) == fromKind && string(f.Namespace) == fromNS {
				fromOK = true
				break
			}
		}
		if !fromOK {
			continue
		}
		for _, t := range g.Spec.To {
			if string(t.Group) == toGroup && string(t.Kind) == toKind && (t.Name == nil || string(*t.Name) == toName) {
				return true
			}
		}
	}
	return false
}
