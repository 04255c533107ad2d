//go:build ignore

// Command apilist lists the exported API of every published module of the
// tree, one line per exported name, struct field, interface method and
// method, in the style of Go's own api/*.txt, so that a change to the API is
// deliberate and visible in review. Standard library only: the packages are
// type-checked from the export data `go list -export` writes.
//
//	go run .ci/apilist.go          # compare with api/*.txt; fail on any difference
//	go run .ci/apilist.go -w       # rewrite api/*.txt (make api)
//
// A published module is one whose go.mod does not say "// Not published"
// above its module line (as in .ci/modproxy.go); its file is
// api/<path below the root module>.txt, api/llmretry.txt for the root.
// Internal, main and test packages have no API.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	write := flag.Bool("w", false, "rewrite api/*.txt instead of comparing")
	flag.Parse()
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	check(err)
	check(os.Chdir(strings.TrimSpace(string(root))))

	want := map[string][]byte{} // file → its listing
	for _, m := range publishedModules() {
		if lines := moduleAPI(m.dir); len(lines) > 0 {
			want[apiFile(m.path)] = []byte(strings.Join(lines, "\n") + "\n")
		}
	}
	old, _ := filepath.Glob("api/*.txt")
	if *write {
		check(os.MkdirAll("api", 0o755))
		for _, f := range old {
			if want[f] == nil {
				check(os.Remove(f))
			}
		}
		for f, b := range want {
			check(os.WriteFile(f, b, 0o644))
		}
		return
	}
	var changed []string
	for _, f := range old {
		if want[f] == nil {
			changed = append(changed, f+" (no published package has an API any more)")
		}
	}
	for f, b := range want {
		have, err := os.ReadFile(f)
		if err != nil || !bytes.Equal(have, b) {
			changed = append(changed, f)
			diff(f, have, b)
		}
	}
	if len(changed) > 0 {
		sort.Strings(changed)
		fmt.Fprintf(os.Stderr, "\nThe exported API differs from its record in %s.\n"+
			"If the change is deliberate, record it: run `make api` (go run .ci/apilist.go -w) and commit api/.\n",
			strings.Join(changed, ", "))
		os.Exit(1)
	}
}

type module struct{ dir, path string }

// publishedModules are the modules of the tree users import: every go.mod
// tracked by git (testdata aside) without "// Not published" above its
// module line.
func publishedModules() []module {
	out, err := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard", "go.mod", "**/go.mod").Output()
	check(err)
	var mods []module
	for _, f := range strings.Fields(string(out)) {
		if strings.Contains("/"+f, "/testdata/") {
			continue
		}
		raw, err := os.ReadFile(f)
		check(err)
		head, rest, ok := strings.Cut(string(raw), "\nmodule ")
		if !ok {
			if !strings.HasPrefix(string(raw), "module ") {
				continue
			}
			head, rest = "", strings.TrimPrefix(string(raw), "module ")
		}
		if strings.Contains(head, "// Not published") {
			continue
		}
		p, _, _ := strings.Cut(rest, "\n")
		mods = append(mods, module{dir: path.Dir(f), path: strings.Trim(strings.TrimSpace(p), `"`)})
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].dir < mods[j].dir })
	return mods
}

// apiFile is the listing's file for the module at path p.
func apiFile(p string) string {
	const rootPath = "github.com/llmretry/llmretry"
	name := strings.TrimPrefix(strings.TrimPrefix(p, rootPath), "/")
	if name == "" {
		name = "llmretry"
	}
	return "api/" + strings.ReplaceAll(name, "/", "_") + ".txt"
}

// moduleAPI lists the API of the packages of the module in dir.
func moduleAPI(dir string) []string {
	// -race: CI's go vet -race has compiled these packages already.
	cmd := exec.Command("go", "list", "-race", "-e", "-export", "-deps", "-json=ImportPath,Name,Export,DepOnly,Standard,Error", "./...")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	check(err)
	exports := map[string]string{}
	var pkgs []string
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			ImportPath, Name, Export string
			DepOnly, Standard        bool
			Error                    *struct{ Err string }
		}
		check(dec.Decode(&p))
		if p.Error != nil {
			fatalf("%s: %s", p.ImportPath, p.Error.Err)
		}
		exports[p.ImportPath] = p.Export
		if !p.DepOnly && p.Name != "main" && !internal(p.ImportPath) {
			pkgs = append(pkgs, p.ImportPath)
		}
	}
	imp := importer.ForCompiler(token.NewFileSet(), "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok || f == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	})
	var lines []string
	for _, p := range pkgs {
		pkg, err := imp.Import(p)
		check(err)
		lines = append(lines, packageAPI(pkg)...)
	}
	sort.Strings(lines)
	return lines
}

func internal(p string) bool {
	return strings.HasSuffix(p, "/internal") || strings.Contains(p, "/internal/")
}

// packageAPI lists pkg's exported names, their fields and methods.
func packageAPI(pkg *types.Package) []string {
	qual := func(p *types.Package) string {
		if p == pkg {
			return ""
		}
		return p.Name()
	}
	typ := func(t types.Type) string {
		if sig, ok := t.(*types.Signature); ok { // a func type: without parameter names, as a func's
			return "func" + signature(sig, func(t types.Type) string { return types.TypeString(t, qual) })
		}
		return types.TypeString(t, qual)
	}
	prefix := "pkg " + pkg.Path() + ", "
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, prefix+fmt.Sprintf(format, args...)) }
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		switch o := obj.(type) {
		case *types.Const:
			add("const %s %s = %s", name, typ(o.Type()), o.Val().ExactString())
		case *types.Var:
			add("var %s %s", name, typ(o.Type()))
		case *types.Func:
			add("func %s%s", name, signature(o.Type().(*types.Signature), typ))
		case *types.TypeName:
			lines = append(lines, typeAPI(prefix, o, typ)...)
		}
	}
	return lines
}

// typeAPI lists a named type, its exported fields or interface methods, and
// its exported methods (promoted ones included: they are API too).
func typeAPI(prefix string, o *types.TypeName, typ func(types.Type) string) []string {
	name := o.Name()
	if o.IsAlias() {
		return []string{prefix + "type " + name + " = " + typ(types.Unalias(o.Type()))}
	}
	named := o.Type().(*types.Named)
	if tp := named.TypeParams(); tp.Len() > 0 {
		var ps []string
		for i := range tp.Len() {
			ps = append(ps, tp.At(i).Obj().Name()+" "+typ(tp.At(i).Constraint()))
		}
		name += "[" + strings.Join(ps, ", ") + "]"
	}
	var lines []string
	switch u := named.Underlying().(type) {
	case *types.Struct:
		lines = append(lines, prefix+"type "+name+" struct")
		for i := range u.NumFields() {
			f := u.Field(i)
			switch {
			case !f.Exported():
			case f.Embedded():
				lines = append(lines, prefix+"type "+name+" struct, embedded "+typ(f.Type()))
			default:
				lines = append(lines, prefix+"type "+name+" struct, "+f.Name()+" "+typ(f.Type()))
			}
		}
	case *types.Interface:
		lines = append(lines, prefix+"type "+name+" interface")
		for i := range u.NumMethods() {
			if m := u.Method(i); m.Exported() {
				lines = append(lines, prefix+"type "+name+" interface, "+m.Name()+signature(m.Type().(*types.Signature), typ))
			}
		}
		return lines
	default:
		lines = append(lines, prefix+"type "+name+" "+typ(u))
	}
	values := types.NewMethodSet(named)
	all := types.NewMethodSet(types.NewPointer(named))
	for i := range all.Len() {
		m := all.At(i).Obj().(*types.Func)
		if !m.Exported() {
			continue
		}
		recv := "*" + o.Name()
		if values.Lookup(m.Pkg(), m.Name()) != nil {
			recv = o.Name()
		}
		lines = append(lines, prefix+"method ("+recv+") "+m.Name()+signature(m.Type().(*types.Signature), typ))
	}
	return lines
}

// signature is sig without parameter names, e.g. "(context.Context, int) error".
func signature(sig *types.Signature, typ func(types.Type) string) string {
	tuple := func(t *types.Tuple, variadic bool) []string {
		var s []string
		for i := range t.Len() {
			pt := t.At(i).Type()
			if variadic && i == t.Len()-1 {
				s = append(s, "..."+typ(pt.(*types.Slice).Elem()))
				continue
			}
			s = append(s, typ(pt))
		}
		return s
	}
	var b strings.Builder
	if tp := sig.TypeParams(); tp.Len() > 0 {
		var ps []string
		for i := range tp.Len() {
			ps = append(ps, tp.At(i).Obj().Name()+" "+typ(tp.At(i).Constraint()))
		}
		b.WriteString("[" + strings.Join(ps, ", ") + "]")
	}
	b.WriteString("(" + strings.Join(tuple(sig.Params(), sig.Variadic()), ", ") + ")")
	switch res := tuple(sig.Results(), false); len(res) {
	case 0:
	case 1:
		b.WriteString(" " + res[0])
	default:
		b.WriteString(" (" + strings.Join(res, ", ") + ")")
	}
	return b.String()
}

// diff prints the lines of file f that want adds (+) and removes (-).
func diff(f string, have, want []byte) {
	in := func(b []byte) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(string(b), "\n") {
			if l != "" {
				m[l] = true
			}
		}
		return m
	}
	h, w := in(have), in(want)
	var out []string
	for l := range h {
		if !w[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range w {
		if !h[l] {
			out = append(out, "+ "+l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][2:] < out[j][2:] })
	fmt.Fprintf(os.Stderr, "%s:\n%s\n", f, strings.Join(out, "\n"))
}

func check(err error) {
	if err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "apilist: "+format+"\n", args...)
	os.Exit(1)
}
