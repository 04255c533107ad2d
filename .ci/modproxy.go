//go:build ignore

// Command modproxy serves the modules of this working tree as a Go module
// proxy in a directory (GOPROXY=file://DIR), so that CI can check what a user
// gets from `go get` before anything is tagged. Standard library only.
//
//	go run .ci/modproxy.go modules          # module directories, one a line
//	go run .ci/modproxy.go published        # paths of the modules users import (tagged at a release)
//	go run .ci/modproxy.go work             # the go.work the tree needs
//	go run .ci/modproxy.go serve -o DIR     # write the proxy; print "path version" lines
//	go run .ci/modproxy.go required         # "path version" of ours that our modules require
//	go run .ci/modproxy.go unpublished      # those that no proxy serves yet
//
// serve writes every module of the tree at a pseudo-version T above every
// version of ours that any module requires (what `go get path@commit` would
// give a user), and, for each requirement on one of our modules at a version
// the real proxy does not serve yet (before its tag is pushed), that module's
// tree at that version too. A requirement the real proxy does serve is left
// to it, so a sub-module is built against the root version it really requires.
// The zips follow the module zip rules that matter here: files tracked or
// untracked-but-not-ignored by git, nested modules excluded.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

type module struct {
	Dir     string // relative to the repository root, "." for the root
	Path    string
	Require []requirement
	Replace []json.RawMessage
	// Published is false for a module whose go.mod says "// Not published"
	// above its module line: nobody imports it, it is never tagged.
	Published bool
}

type requirement struct {
	Path    string
	Version string
}

func main() {
	if len(os.Args) < 2 {
		fatalf("usage: modproxy modules|published|work|required|unpublished|serve -o DIR")
	}
	root, err := gitOut("rev-parse", "--show-toplevel")
	check(err)
	check(os.Chdir(strings.TrimSpace(root)))
	mods := loadModules()
	switch os.Args[1] {
	case "modules":
		for _, m := range mods {
			fmt.Println(m.Dir)
		}
	case "published":
		for _, m := range mods {
			if m.Published {
				fmt.Println(m.Path)
			}
		}
	case "work":
		fmt.Print(workFile(mods))
	case "required":
		for _, r := range required(mods) {
			fmt.Println(r.Path, r.Version)
		}
	case "unpublished":
		for _, r := range unpublished(mods) {
			fmt.Println(r.Path, r.Version)
		}
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ExitOnError)
		out := fs.String("o", "", "directory to write the proxy to")
		check(fs.Parse(os.Args[2:]))
		if *out == "" {
			fatalf("serve: -o DIR is required")
		}
		serve(mods, *out)
	default:
		fatalf("unknown command %q", os.Args[1])
	}
}

// loadModules finds every go.mod of the tree (testdata excluded) and reads it
// with `go mod edit -json`.
func loadModules() []module {
	files := gitFiles()
	var mods []module
	for _, f := range files {
		if path.Base(f) != "go.mod" || strings.Contains("/"+f, "/testdata/") {
			continue
		}
		dir := path.Dir(f)
		out, err := exec.Command("go", "mod", "edit", "-json", f).Output()
		check(err)
		var j struct {
			Module  struct{ Path string }
			Require []requirement
			Replace []json.RawMessage
		}
		check(json.Unmarshal(out, &j))
		raw, err := os.ReadFile(f)
		check(err)
		head, _, _ := strings.Cut(string(raw), "\nmodule ")
		mods = append(mods, module{Dir: dir, Path: j.Module.Path, Require: j.Require, Replace: j.Replace,
			Published: !strings.Contains(head, "// Not published")})
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Dir < mods[j].Dir })
	if len(mods) == 0 || mods[0].Dir != "." {
		fatalf("no go.mod at the repository root")
	}
	return mods
}

// ours reports whether p is the path of one of the tree's modules.
func ours(mods []module, p string) (module, bool) {
	for _, m := range mods {
		if m.Path == p {
			return m, true
		}
	}
	return module{}, false
}

// required lists each (path, version) of ours that some module of the tree requires.
func required(mods []module) []requirement {
	seen := map[requirement]bool{}
	var rs []requirement
	for _, m := range mods {
		for _, r := range m.Require {
			if _, ok := ours(mods, r.Path); ok && !seen[r] {
				seen[r] = true
				rs = append(rs, r)
			}
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Path+" "+rs[i].Version < rs[j].Path+" "+rs[j].Version })
	return rs
}

// workFile is the go.work of the tree: every module, and each version of ours
// that a module requires replaced by the tree, so that the workspace builds
// before those versions are published and always builds the tree.
func workFile(mods []module) string {
	goVersion := "1.26.0"
	var b strings.Builder
	for _, m := range mods {
		out, err := exec.Command("go", "mod", "edit", "-json", path.Join(m.Dir, "go.mod")).Output()
		check(err)
		var j struct{ Go string }
		check(json.Unmarshal(out, &j))
		if versionLess(goVersion, j.Go) {
			goVersion = j.Go
		}
	}
	fmt.Fprintf(&b, "// Generated by `make work` (go run .ci/modproxy.go work): every module of\n")
	fmt.Fprintf(&b, "// the repository, built from this tree. CI checks it is up to date.\n\n")
	fmt.Fprintf(&b, "go %s\n\nuse (\n", goVersion)
	for _, m := range mods {
		d := "./" + m.Dir
		if m.Dir == "." {
			d = "."
		}
		fmt.Fprintf(&b, "\t%s\n", d)
	}
	b.WriteString(")\n")
	rs := required(mods)
	if len(rs) > 0 {
		b.WriteString("\nreplace (\n")
		for _, r := range rs {
			m, _ := ours(mods, r.Path)
			d := "./" + m.Dir
			if m.Dir == "." {
				d = "./"
			}
			fmt.Fprintf(&b, "\t%s %s => %s\n", r.Path, r.Version, d)
		}
		b.WriteString(")\n")
	}
	return b.String()
}

// versionLess compares Go versions such as 1.22 and 1.26.0.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// unpublished lists the requirements on our modules that no proxy of
// GOPROXY serves.
func unpublished(mods []module) []requirement {
	var rs []requirement
	for _, r := range required(mods) {
		if !published(r) {
			rs = append(rs, r)
		}
	}
	return rs
}

// published asks each HTTP proxy of GOPROXY for r's .info.
func published(r requirement) bool {
	out, err := exec.Command("go", "env", "GOPROXY").Output()
	check(err)
	client := &http.Client{Timeout: 20 * time.Second}
	for _, p := range strings.FieldsFunc(strings.TrimSpace(string(out)), func(c rune) bool { return c == ',' || c == '|' }) {
		if !strings.HasPrefix(p, "https://") && !strings.HasPrefix(p, "http://") {
			continue
		}
		resp, err := client.Get(strings.TrimSuffix(p, "/") + "/" + escape(r.Path) + "/@v/" + escape(r.Version) + ".info")
		if err != nil {
			fmt.Fprintf(os.Stderr, "modproxy: %s@%s: %v (taken as unpublished)\n", r.Path, r.Version, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return true
		}
	}
	return false
}

// escape is the module proxy's case encoding: an upper-case letter becomes
// '!' and its lower case.
func escape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if 'A' <= c && c <= 'Z' {
			b.WriteByte('!')
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// treeVersion is a pseudo-version above every version of ours that the tree
// requires: v(X.Y.Z+1)-0.TIME-HASH of HEAD, as Go names a commit after a tag.
func treeVersion(mods []module) string {
	base := [3]int{0, 0, 0}
	for _, r := range required(mods) {
		v := strings.TrimPrefix(r.Version, "v")
		if i := strings.IndexAny(v, "-+"); i >= 0 {
			v = v[:i]
		}
		var n [3]int
		for i, f := range strings.SplitN(v, ".", 3) {
			n[i], _ = strconv.Atoi(f)
		}
		if n[0] > base[0] || n[0] == base[0] && (n[1] > base[1] || n[1] == base[1] && n[2] > base[2]) {
			base = n
		}
	}
	hash, ts := "000000000000", time.Now().UTC().Format("20060102150405")
	if out, err := gitOut("log", "-1", "--format=%H %ct"); err == nil {
		if f := strings.Fields(out); len(f) == 2 {
			hash = f[0][:12]
			if sec, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				ts = time.Unix(sec, 0).UTC().Format("20060102150405")
			}
		}
	}
	return fmt.Sprintf("v%d.%d.%d-0.%s-%s", base[0], base[1], base[2]+1, ts, hash)
}

func serve(mods []module, out string) {
	check(os.MkdirAll(out, 0o755))
	files := gitFiles()
	tree := treeVersion(mods)
	for _, m := range mods {
		write(out, m, mods, files, tree)
		fmt.Println(m.Path, tree)
	}
	for _, r := range unpublished(mods) {
		m, _ := ours(mods, r.Path)
		write(out, m, mods, files, r.Version)
		fmt.Fprintf(os.Stderr, "modproxy: %s@%s is not published yet: served from the tree\n", r.Path, r.Version)
	}
}

// write adds module m of the tree at version v to the proxy in dir out.
func write(out string, m module, mods []module, files []string, v string) {
	d := filepath.Join(out, filepath.FromSlash(escape(m.Path)), "@v")
	check(os.MkdirAll(d, 0o755))
	gomod, err := os.ReadFile(filepath.Join(m.Dir, "go.mod"))
	check(err)
	check(os.WriteFile(filepath.Join(d, v+".mod"), gomod, 0o644))
	info, _ := json.Marshal(struct{ Version, Time string }{v, time.Now().UTC().Format(time.RFC3339)})
	check(os.WriteFile(filepath.Join(d, v+".info"), info, 0o644))

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	prefix := m.Path + "@" + v + "/"
	n := 0
	for _, f := range files {
		rel, ok := inModule(f, m, mods)
		if !ok {
			continue
		}
		st, err := os.Lstat(f)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the work tree
		}
		check(err)
		if !st.Mode().IsRegular() {
			continue // the module zip format holds regular files only
		}
		w, err := zw.Create(prefix + rel)
		check(err)
		src, err := os.Open(f)
		check(err)
		_, err = io.Copy(w, src)
		src.Close()
		check(err)
		n++
	}
	check(zw.Close())
	check(os.WriteFile(filepath.Join(d, v+".zip"), buf.Bytes(), 0o644))

	list := filepath.Join(d, "list")
	old, _ := os.ReadFile(list)
	if !strings.Contains("\n"+string(old), "\n"+v+"\n") {
		check(os.WriteFile(list, append(old, v+"\n"...), 0o644))
	}
	fmt.Fprintf(os.Stderr, "modproxy: %s@%s: %d files\n", m.Path, v, n)
}

// inModule reports whether file f (relative to the repository root) belongs
// to module m, and its path inside the module: under m's directory and not
// under a nested module's.
func inModule(f string, m module, mods []module) (string, bool) {
	rel := f
	if m.Dir != "." {
		if !strings.HasPrefix(f, m.Dir+"/") {
			return "", false
		}
		rel = strings.TrimPrefix(f, m.Dir+"/")
	}
	for _, o := range mods {
		if o.Dir == m.Dir || o.Dir == "." {
			continue
		}
		if strings.HasPrefix(f, o.Dir+"/") && len(o.Dir) > len(m.Dir) {
			return "", false
		}
	}
	for _, elem := range strings.Split(path.Dir(rel), "/") {
		if elem == "vendor" || elem == ".git" {
			return "", false
		}
	}
	return rel, true
}

// gitFiles lists the tree's files, tracked or untracked but not ignored:
// what a commit of the work tree would hold.
func gitFiles() []string {
	out, err := gitOut("ls-files", "--cached", "--others", "--exclude-standard")
	check(err)
	seen := map[string]bool{}
	var fs []string
	for _, f := range strings.Split(strings.TrimSpace(out), "\n") {
		if f != "" && !seen[f] {
			seen[f] = true
			fs = append(fs, f)
		}
	}
	return fs
}

func gitOut(args ...string) (string, error) {
	out, err := exec.Command("git", args...).Output()
	return string(out), err
}

func check(err error) {
	if err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "modproxy: "+format+"\n", args...)
	os.Exit(1)
}
