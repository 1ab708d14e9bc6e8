package docs

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pylon-dev/pylon/test/testenv"
)

// Tool pins; keep in step with the Makefile and hack/make/packaging.mk.
const (
	helmVersion      = "v4.3.1"
	kustomizeVersion = "v5.8.2"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatalf("repository root: %v", err)
	}
	return root
}

// runIn runs a command in the repository root with a timeout and returns
// stdout, stderr and the error.
func runIn(t *testing.T, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = repoRoot(t)
	// Under `make test` the environment carries the outer make's flags and
	// jobserver; a make run by a test must not inherit them.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "MAKEFLAGS" && k != "MFLAGS" && k != "MAKELEVEL" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func readDoc(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return string(b)
}

// codeBlock is a fenced block of a Markdown file.
type codeBlock struct {
	lang  string
	line  int // line of the opening fence, 1-based
	lines []string
}

var fence = regexp.MustCompile("^\\s*```\\s*([A-Za-z0-9_-]*)")

func codeBlocks(md string) []codeBlock {
	var out []codeBlock
	var cur *codeBlock
	for i, l := range strings.Split(md, "\n") {
		m := fence.FindStringSubmatch(l)
		switch {
		case m != nil && cur == nil:
			cur = &codeBlock{lang: m[1], line: i + 1}
		case m != nil:
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, l)
		}
	}
	return out
}

// command is one command line a reader would type, with where it is.
type command struct {
	where string
	text  string
}

// commands returns the commands of a Markdown file: every logical line of
// sh/bash/shell blocks, and the lines starting with "$ " in console blocks.
// Trailing backslashes join lines; comments are dropped.
func commands(file, md string) []command {
	var out []command
	for _, b := range codeBlocks(md) {
		var logical []string
		var cur strings.Builder
		for _, l := range b.lines {
			switch b.lang {
			case "sh", "bash", "shell":
			case "console":
				if cur.Len() == 0 {
					if !strings.HasPrefix(l, "$ ") {
						continue
					}
					l = strings.TrimPrefix(l, "$ ")
				}
			default:
				continue
			}
			if strings.HasSuffix(strings.TrimRight(l, " "), "\\") {
				cur.WriteString(strings.TrimSuffix(strings.TrimRight(l, " "), "\\"))
				cur.WriteString(" ")
				continue
			}
			cur.WriteString(l)
			logical = append(logical, cur.String())
			cur.Reset()
		}
		for _, l := range logical {
			l = strings.TrimSpace(stripComment(l))
			if l == "" {
				continue
			}
			out = append(out, command{where: file + " (block at line " + strconv.Itoa(b.line) + ")", text: l})
		}
	}
	return out
}

// stripComment drops a shell comment: a # at the start of a word, outside
// quotes.
func stripComment(l string) string {
	var q rune
	for i, r := range l {
		switch {
		case q != 0:
			if r == q {
				q = 0
			}
		case r == '\'' || r == '"':
			q = r
		case r == '#' && (i == 0 || l[i-1] == ' ' || l[i-1] == '\t'):
			return l[:i]
		}
	}
	return l
}

// pipeline splits a command line into simple commands at unquoted &&, ||,
// | and ;, each as its words with quotes removed.
func pipeline(l string) [][]string {
	var cmds [][]string
	var words []string
	var w strings.Builder
	inWord := false
	var q rune
	flushWord := func() {
		if inWord {
			words = append(words, w.String())
			w.Reset()
			inWord = false
		}
	}
	flushCmd := func() {
		flushWord()
		if len(words) > 0 {
			cmds = append(cmds, words)
		}
		words = nil
	}
	rs := []rune(l)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case q != 0:
			if r == q {
				q = 0
			} else {
				w.WriteRune(r)
			}
		case r == '\'' || r == '"':
			q, inWord = r, true
		case r == ' ' || r == '\t':
			flushWord()
		case r == ';':
			flushCmd()
		case r == '&' && i+1 < len(rs) && rs[i+1] == '&', r == '|':
			if i+1 < len(rs) && rs[i+1] == rs[i] {
				i++
			}
			flushCmd()
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	flushCmd()
	return cmds
}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// relativeLinks returns the targets of a file's Markdown links that are
// neither URLs nor anchors within the page, without their #fragment.
func relativeLinks(md string) []string {
	var out []string
	for _, m := range mdLink.FindAllStringSubmatch(md, -1) {
		target := m[1]
		if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
			continue
		}
		if i := strings.IndexByte(target, '#'); i >= 0 {
			target = target[:i]
		}
		out = append(out, target)
	}
	return out
}

func TestPipelineSplitsLikeAShell(t *testing.T) {
	got := pipeline(`kubectl get webapp shop -o jsonpath='{.status.canary}' | jq . && make a B=1; echo "x | y"`)
	want := [][]string{
		{"kubectl", "get", "webapp", "shop", "-o", "jsonpath={.status.canary}"},
		{"jq", "."},
		{"make", "a", "B=1"},
		{"echo", "x | y"},
	}
	if len(got) != len(want) {
		t.Fatalf("pipeline: got %q, want %q", got, want)
	}
	for i := range want {
		if strings.Join(got[i], "\x00") != strings.Join(want[i], "\x00") {
			t.Errorf("command %d: got %q, want %q", i, got[i], want[i])
		}
	}
	if c := stripComment(`make demo   # a '#' in a comment`); strings.TrimSpace(c) != "make demo" {
		t.Errorf("stripComment: %q", c)
	}
	if c := stripComment(`curl -H 'a#b' x`); c != `curl -H 'a#b' x` {
		t.Errorf("stripComment kept quotes wrong: %q", c)
	}
}

// tool is bin/<name>-<version> (testenv.Tool).
func tool(t *testing.T, name, version string) string {
	t.Helper()
	return testenv.Tool(t, name, version)
}
