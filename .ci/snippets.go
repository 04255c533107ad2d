//go:build ignore

// Command snippets writes every ```go block of Markdown files as a package
// of the module in -o, so that `go vet ./...` there compiles them all:
//
//	go run .ci/snippets.go -o DIR README.md docs/*.md
//
// Each block's package is named after its file and line
// (DIR/docs_pacing_md/line12), so that a failure points at the block.
// A block is one of:
//   - a program (it starts with `package`): written as it is;
//   - declarations (imports, funcs, types…): given `package snippet`, and, if it
//     has no import block, the imports of the packages it names;
//   - statements: put in a function, with the imports of the packages it names
//     and `_ = x` for each variable it declares (a snippet shows a setup whose
//     result the reader goes on to use).
//
// Packages named without an import block must be unambiguous (the table
// below); a block naming an SDK (openai, option, anthropic…) carries its own
// imports, as a reader needs them.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

var imports = map[string]string{
	"context":       "context",
	"errors":        "errors",
	"fmt":           "fmt",
	"http":          "net/http",
	"io":            "io",
	"os":            "os",
	"slog":          "log/slog",
	"strings":       "strings",
	"time":          "time",
	"llmretry":      "github.com/llmretry/llmretry",
	"llmretrytest":  "github.com/llmretry/llmretry/llmretrytest",
	"redislimit":    "github.com/llmretry/llmretry/redislimit",
	"llmretryotel":  "github.com/llmretry/llmretry/otel",
	"redis":         "github.com/redis/go-redis/v9",
	"retryablehttp": "github.com/hashicorp/go-retryablehttp",
}

func main() {
	out := flag.String("o", "", "module directory to write the snippets into")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fatalf("usage: snippets -o DIR FILE.md...")
	}
	total := 0
	for _, name := range flag.Args() {
		total += write(*out, name)
	}
	if total == 0 {
		fatalf("no ```go block in %s", strings.Join(flag.Args(), " "))
	}
	fmt.Fprintf(os.Stderr, "snippets: %d blocks of %d files\n", total, flag.NArg())
}

// write writes the go blocks of the Markdown file name into out and returns
// how many there were. A file without one is fine: not every page shows code.
func write(out, name string) int {
	md, err := os.ReadFile(name)
	if err != nil {
		fatalf("%v", err)
	}
	blocks := goBlocks(string(md))
	base := strings.NewReplacer("/", "_", ".", "_", "-", "_").Replace(filepath.ToSlash(filepath.Clean(name)))
	for _, b := range blocks {
		src, err := wrap(b.text)
		if err != nil {
			fatalf("%s:%d: %v", name, b.line, err)
		}
		dir := filepath.Join(out, "snippet_"+base, fmt.Sprintf("line%d", b.line))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fatalf("%v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "snippet.go"), src, 0o644); err != nil {
			fatalf("%v", err)
		}
	}
	return len(blocks)
}

type block struct {
	line int // of the opening fence
	text string
}

func goBlocks(md string) []block {
	var bs []block
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```go" {
			continue
		}
		start := i + 1
		j := start
		for j < len(lines) && strings.TrimSpace(lines[j]) != "```" {
			j++
		}
		bs = append(bs, block{line: start, text: strings.Join(lines[start:j], "\n") + "\n"})
		i = j
	}
	return bs
}

func wrap(text string) ([]byte, error) {
	fset := token.NewFileSet()
	if strings.HasPrefix(strings.TrimSpace(text), "package ") {
		if _, err := parser.ParseFile(fset, "", text, parser.ParseComments); err != nil {
			return nil, err
		}
		return []byte(text), nil
	}
	if f, err := parser.ParseFile(fset, "", "package snippet\n"+text, parser.ParseComments); err == nil {
		if len(f.Imports) > 0 {
			return format.Source([]byte("package snippet\n" + text))
		}
		imps, err := named(f)
		if err != nil {
			return nil, err
		}
		return format.Source([]byte("package snippet\n" + importBlock(imps) + text))
	}
	body := "package snippet\n\nfunc snippet() {\n" + text + "}\n"
	f, err := parser.ParseFile(fset, "", body, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("neither declarations nor statements: %v", err)
	}
	imps, err := named(f)
	if err != nil {
		return nil, err
	}
	var uses []string
	for _, st := range f.Decls[0].(*ast.FuncDecl).Body.List {
		switch s := st.(type) {
		case *ast.AssignStmt:
			if s.Tok == token.DEFINE {
				for _, l := range s.Lhs {
					if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
						uses = append(uses, id.Name)
					}
				}
			}
		case *ast.DeclStmt:
			if g, ok := s.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
				for _, sp := range g.Specs {
					for _, id := range sp.(*ast.ValueSpec).Names {
						uses = append(uses, id.Name)
					}
				}
			}
		}
	}
	var b bytes.Buffer
	b.WriteString("package snippet\n" + importBlock(imps) + "\nfunc snippet() {\n" + text)
	for _, u := range uses {
		fmt.Fprintf(&b, "\t_ = %s\n", u)
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

// named lists the import paths of the packages f names (pkg.Name with pkg
// not declared in f).
func named(f *ast.File) ([]string, error) {
	declared := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.AssignStmt:
			if x.Tok == token.DEFINE {
				for _, l := range x.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						declared[id.Name] = true
					}
				}
			}
		case *ast.ValueSpec:
			for _, id := range x.Names {
				declared[id.Name] = true
			}
		case *ast.Field:
			for _, id := range x.Names {
				declared[id.Name] = true
			}
		}
		return true
	})
	set := map[string]bool{}
	var err error
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok || declared[id.Name] {
			return true
		}
		if p, ok := imports[id.Name]; ok {
			set[p] = true
		} else if err == nil {
			err = fmt.Errorf("%s.%s: unknown package %q; give the snippet its import block", id.Name, sel.Sel.Name, id.Name)
		}
		return true
	})
	var ps []string
	for p := range set {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps, err
}

func importBlock(ps []string) string {
	if len(ps) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\nimport (\n")
	for _, p := range ps {
		fmt.Fprintf(&b, "\t%q\n", p)
	}
	b.WriteString(")\n")
	return b.String()
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "snippets: "+format+"\n", args...)
	os.Exit(1)
}
