package packaging

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// The version the test stamps; unique enough to find in the binaries.
const testVersion = "v0.0.0-packaging-test+7f3a"

// testRevision is the REVISION build argument the image build is run with.
const testRevision = "0123456789abcdef0123456789abcdef01234567"

// dockerfile is what the test needs from the Dockerfile.
type dockerfile struct {
	args   map[string]string // ARG defaults
	copies []string          // sources COPY'd into the builder stage
	builds []string          // RUN instructions that run go build
	final  []string          // instructions of the last stage
}

// readDockerfile joins continuation lines and sorts instructions by stage.
func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	d := dockerfile{args: map[string]string{}}
	stages := 0
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			stages++
			d.final = nil
		case "ARG":
			name, def, _ := strings.Cut(rest, "=")
			d.args[name] = def
		case "COPY":
			if stages == 1 && !strings.Contains(rest, "--from") {
				f := strings.Fields(rest)
				d.copies = append(d.copies, f[:len(f)-1]...)
			}
		case "RUN":
			if strings.Contains(rest, "go build") {
				d.builds = append(d.builds, rest)
			}
		}
		d.final = append(d.final, line)
	}
	return d
}

var shellVar = regexp.MustCompile(`\$\{(\w+)(:-([^}]*))?\}`)

// expand substitutes ${VAR} and ${VAR:-default} as the shell in the builder would.
func expand(s string, vars map[string]string) string {
	return shellVar.ReplaceAllStringFunc(s, func(m string) string {
		p := shellVar.FindStringSubmatch(m)
		if v := vars[p[1]]; v != "" {
			return v
		}
		return p[3]
	})
}

// words splits a command line into words, honouring single and double quotes.
func words(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	inWord := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

// The Dockerfile's go build commands, run here, give static binaries of
// manager and gateway that carry the version; the final stage is distroless
// static, non-root, and holds both.
func TestImageBuild(t *testing.T) {
	g := NewWithT(t)
	d := readDockerfile(t)
	g.Expect(d.builds).To(HaveLen(2), "one go build per binary")
	g.Expect(d.final[0]).To(Equal("FROM gcr.io/distroless/static:nonroot"))
	g.Expect(d.final).To(ContainElement("USER 65532:65532"))

	vars := map[string]string{}
	for k, v := range d.args {
		vars[k] = v
	}
	// What `docker buildx build --build-arg VERSION=...` would set.
	vars["TARGETOS"], vars["TARGETARCH"], vars["VERSION"] = "linux", runtime.GOARCH, testVersion
	vars["REVISION"] = testRevision

	tmp := t.TempDir()
	built := map[string]string{}
	for _, line := range d.builds {
		argv := words(expand(line, vars))
		var env []string
		for len(argv) > 0 && strings.Contains(argv[0], "=") && !strings.HasPrefix(argv[0], "-") {
			env = append(env, argv[0])
			argv = argv[1:]
		}
		g.Expect(argv[:2]).To(Equal([]string{"go", "build"}), "RUN %s", line)
		for i := range argv {
			if argv[i] == "-o" && i+1 < len(argv) {
				name := filepath.Base(argv[i+1])
				argv[i+1] = filepath.Join(tmp, name)
				built[name] = argv[i+1]
			}
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = repoRoot(t)
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("RUN %s: %v\n%s", line, err, out)
		}
	}
	g.Expect(built).To(HaveKey("manager"))
	g.Expect(built).To(HaveKey("gateway"))
	for name, path := range built {
		checkStatic(t, name, path)
		checkVersion(t, name, path)
		g.Expect(strings.Join(d.final, "\n")).To(MatchRegexp(`COPY --from=builder .*/`+name+`\b`), "final stage copies %s", name)
	}
	checkCopies(t, d.copies)
}

// checkStatic fails when the binary needs a dynamic loader or libraries:
// distroless/static has neither.
func checkStatic(t *testing.T, name, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s is dynamically linked (program header %v)", name, p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s needs shared libraries %v", name, libs)
	}
}

// checkVersion reads the build settings Go records in the binary, and finds
// the stamped version. With -trimpath Go does not record -ldflags, so the
// string can only come from -X main.version.
func checkVersion(t *testing.T, name, path string) {
	t.Helper()
	g := NewWithT(t)
	info, err := buildinfo.ReadFile(path)
	g.Expect(err).NotTo(HaveOccurred())
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	g.Expect(settings).To(HaveKeyWithValue("CGO_ENABLED", "0"), name)
	g.Expect(settings).To(HaveKeyWithValue("-trimpath", "true"), name)
	g.Expect(settings).NotTo(HaveKey("-ldflags"), "%s: -ldflags recorded, so finding the version proves nothing", name)
	b, err := os.ReadFile(path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(bytes.Contains(b, []byte(testVersion))).To(BeTrue(), "%s: main.version is not stamped (is there a var version in package main?)", name)
	// --version prints what was stamped and exits 0 without a cluster.
	out, err := exec.Command(path, "--version").CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), "%s --version: %s", name, out)
	g.Expect(string(out)).To(And(
		ContainSubstring("pylon-"+name+"\n"),
		ContainSubstring("version: "+testVersion+"\n"),
		ContainSubstring("commit: "+testRevision+"\n"),
		ContainSubstring("go: "+runtime.Version()+" "),
	), "%s --version", name)
}

// checkCopies fails when a package the binaries import lives in a directory
// the Dockerfile does not COPY: docker build would fail although `go build`
// here passes.
func checkCopies(t *testing.T, copies []string) {
	t.Helper()
	root := repoRoot(t)
	out := run(t, "go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", "./cmd/manager", "./cmd/gateway")
	copied := map[string]bool{}
	for _, c := range copies {
		copied[strings.TrimSuffix(c, "/")] = true
	}
	for _, dir := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(root, dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // a module dependency, downloaded by go mod download
		}
		top := strings.Split(rel, string(filepath.Separator))[0]
		if !copied[top] {
			t.Errorf("package dir %s is not copied into the builder (COPY %s/ %s/)", rel, top, top)
		}
	}
}
