package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// tableRow is one row of a comparison table: its label, and its cell for
// each run.
type tableRow[S any] struct {
	label string
	cell  func(S) string
}

// writeTable writes a table with a column per run, headed by its name, and
// a line per row, right-aligned.
func writeTable[S any](w io.Writer, runs []S, name func(S) string, rows ...tableRow[S]) {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t", name(r))
	}
	fmt.Fprintln(tw)
	for _, row := range rows {
		fmt.Fprintf(tw, "%s\t", row.label)
		for _, r := range runs {
			fmt.Fprintf(tw, "%s\t", row.cell(r))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}
