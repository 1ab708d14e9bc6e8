package localcluster

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The API server's audit log records every write Pylon's processes make
// (Metadata level; Leases at Request level, so the holderIdentity each
// process wrote is in the log): tests count writes per process (see
// ReplicaGroupPrefix) and creates per object.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Request
  users: ["` + ManagerUser + `", "` + GatewayUser + `"]
  verbs: ["create", "update", "patch"]
  resources: [{group: "coordination.k8s.io", resources: ["leases"]}]
- level: Metadata
  users: ["` + ManagerUser + `", "` + GatewayUser + `"]
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
`

func (c *Cluster) auditPolicyPath() string { return filepath.Join(c.Dir, "audit-policy.yaml") }

// AuditLogPath is the API server's audit log.
func (c *Cluster) AuditLogPath() string { return c.logPath("audit") }

func (c *Cluster) writeAuditPolicy() error {
	if err := os.MkdirAll(filepath.Dir(c.AuditLogPath()), 0o755); err != nil {
		return err
	}
	return os.WriteFile(c.auditPolicyPath(), []byte(auditPolicy), 0o600)
}

func (c *Cluster) auditArgs() []string {
	return []string{
		"--audit-policy-file=" + c.auditPolicyPath(), "--audit-log-path=" + c.AuditLogPath(),
		// Written as each request completes, so a test reads the writes
		// made before it looks.
		"--audit-log-mode=blocking", "--audit-log-maxbackup=0",
	}
}

// AuditEvent is the part of an audit.k8s.io/v1 Event the tests read.
type AuditEvent struct {
	Verb string `json:"verb"`
	User struct {
		Username string   `json:"username"`
		Groups   []string `json:"groups"`
	} `json:"user"`
	ObjectRef struct {
		Resource    string `json:"resource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		APIGroup    string `json:"apiGroup"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	RequestObject *struct {
		Spec struct {
			HolderIdentity string `json:"holderIdentity"`
		} `json:"spec"`
	} `json:"requestObject"`
	RequestReceivedTimestamp time.Time `json:"requestReceivedTimestamp"`
	StageTimestamp           time.Time `json:"stageTimestamp"`
}

// Process is the name of the harness process that made the request (its
// ReplicaGroupPrefix group), or "" for anyone else.
func (e AuditEvent) Process() string {
	for _, g := range e.User.Groups {
		if name, ok := strings.CutPrefix(g, ReplicaGroupPrefix); ok {
			return name
		}
	}
	return ""
}

// Succeeded reports a 2xx response.
func (e AuditEvent) Succeeded() bool {
	return e.ResponseStatus.Code >= 200 && e.ResponseStatus.Code < 300
}

// ReadAuditLog returns every event of the audit log so far.
func (c *Cluster) ReadAuditLog() ([]AuditEvent, error) {
	f, err := os.Open(c.AuditLogPath())
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	var out []AuditEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}
