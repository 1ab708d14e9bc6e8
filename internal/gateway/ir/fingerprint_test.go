package ir

import "testing"

func TestFingerprintSeesRoutesWeightsEndpointsAndKeys(t *testing.T) {
	build := func(edit func(*Table)) *Table {
		pm, err := NewPathMatch(PathPrefix, "/")
		if err != nil {
			t.Fatal(err)
		}
		a := NewAction(nil, &Backend{Namespace: "ns", Name: "svc", Port: 80, Weight: 1,
			Endpoints: []Endpoint{{Address: "10.0.0.1", Port: 8080, Ready: true, Serving: true}}})
		tb := &Table{Listeners: []*Listener{{Port: 443, Protocol: ProtocolHTTPS,
			Certificates: []*Certificate{{Hostname: "", Pairs: []KeyPair{{Source: "ns/cert", CertPEM: []byte("cert"), KeyPEM: []byte("key")}}}},
			VirtualHosts: []*VirtualHost{{Listeners: []string{"L"}, Routes: []*Route{{
				Source: Source{Kind: "HTTPRoute", Namespace: "ns", Name: "r"}, Listener: "L", Path: pm, Action: a,
			}}}},
		}}}
		if edit != nil {
			edit(tb)
		}
		tb.Finalize()
		return tb
	}
	fp := func(tb *Table) [32]byte {
		t.Helper()
		sum, err := tb.Fingerprint()
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	base := fp(build(nil))
	if fp(build(nil)) != base {
		t.Fatal("two equal tables have different fingerprints")
	}
	backend := func(tb *Table) *Backend { return tb.Listeners[0].VirtualHosts[0].Routes[0].Action.Backends[0] }
	for name, edit := range map[string]func(*Table){
		"weight":           func(tb *Table) { backend(tb).Weight = 2 },
		"endpoint ready":   func(tb *Table) { backend(tb).Endpoints[0].Ready = false },
		"renewed cert":     func(tb *Table) { tb.Listeners[0].Certificates[0].Pairs[0].CertPEM = []byte("cert2") },
		"renewed key":      func(tb *Table) { tb.Listeners[0].Certificates[0].Pairs[0].KeyPEM = []byte("key2") },
		"another listener": func(tb *Table) { tb.Listeners = append(tb.Listeners, &Listener{Port: 80, Protocol: ProtocolHTTP}) },
	} {
		if fp(build(edit)) == base {
			t.Errorf("%s: changed table has the same fingerprint", name)
		}
	}
}
