package main

import (
	"fmt"
	"html"
	"math"
	"os"
	"strings"
	"time"
)

// The picture: for each chosen cell (a column) and each client (a row),
// the attempts the server received per 100 ms over time, admitted ones in
// green and 429s in red, with the server's limit as a dashed line. A client
// that releases its waiters together draws spikes; one that paces draws a
// flat band at the line.
const (
	svgBin      = 100 * time.Millisecond
	svgColWidth = 560
	svgPanel    = 84 // height of one client's plot
	svgGap      = 26 // room for the label above a plot
	svgLeft     = 40
	svgTop      = 56
)

// writeSVG draws rows (the chosen cells) to path.
func writeSVG(path string, cfg config, cs []client, rows []matrixRow) error {
	if len(rows) == 0 {
		return nil
	}
	height := svgTop + len(cs)*(svgPanel+svgGap) + 34
	width := svgLeft + len(rows)*(svgColWidth+svgLeft)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="14" font-weight="bold">Attempts per 100 ms received by the server: %d requests, %d workers, limit %g/s, burst %d</text>`+"\n",
		svgLeft, cfg.n, cfg.workers, cfg.rate, cfg.burst)
	fmt.Fprintf(&b, `<text x="%d" y="34"><tspan fill="#2a9d4b">■ admitted</tspan>  <tspan fill="#d1495b">■ 429</tspan>  <tspan fill="#888">■ other</tspan>  — — the server's limit per 100 ms; bars above the top are cut (▲)</text>`+"\n", svgLeft)
	for col, row := range rows {
		x0 := svgLeft + col*(svgColWidth+svgLeft)
		drawColumn(&b, x0, cfg, cs, row)
	}
	b.WriteString("</svg>\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func drawColumn(b *strings.Builder, x0 int, cfg config, cs []client, row matrixRow) {
	limit := cfg.rate * svgBin.Seconds() // attempts per bin at the limit (tokens cells: requests of average cost)
	hists := make([][]slot, len(row.results))
	bins, top := 1, 0
	for k, r := range row.results {
		hists[k] = r.histogram(svgBin)
		bins = max(bins, len(hists[k]))
		for _, s := range hists[k] {
			top = max(top, s.ok+s.limited+s.other)
		}
	}
	// The scale shows the limit clearly and herds up to 8 times it.
	yMax := math.Max(3*limit, math.Min(float64(top), 8*limit))
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="13" font-weight="bold">%s</text>`+"\n", x0, svgTop-6, html.EscapeString(string(row.cell.style)+" · "+row.cell.unit.String()+" limit"))
	barW := float64(svgColWidth) / float64(bins)
	for k, c := range cs {
		r := row.results[k]
		y0 := svgTop + k*(svgPanel+svgGap) + svgGap // top of the plot
		label := fmt.Sprintf("%s — %.2f× optimum, %d failed, %d 429s", c.name, r.wall.Seconds()/row.cell.optimum().Seconds(), r.failed, r.status(429))
		fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`+"\n", x0, y0-5, html.EscapeString(label))
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#f6f6f6" stroke="#ccc"/>`+"\n", x0, y0, svgColWidth, svgPanel)
		for i, s := range hists[k] {
			x := float64(x0) + float64(i)*barW
			y := float64(y0 + svgPanel)
			for _, part := range []struct {
				n     int
				color string
			}{{s.ok, "#2a9d4b"}, {s.limited, "#d1495b"}, {s.other, "#888"}} {
				if part.n == 0 {
					continue
				}
				h := float64(part.n) / yMax * svgPanel
				h = math.Min(h, y-float64(y0))
				y -= h
				fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", x, y, math.Max(barW-0.3, 0.5), h, part.color)
			}
			if float64(s.ok+s.limited+s.other) > yMax {
				fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="8" fill="#d1495b">▲</text>`+"\n", x-2, y0+8)
			}
		}
		ly := float64(y0+svgPanel) - limit/yMax*svgPanel
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#333" stroke-dasharray="4 3"/>`+"\n", x0, x0+svgColWidth, ly, ly)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" font-size="9" text-anchor="end">%g</text>`+"\n", x0-3, ly+3, limit)
		fmt.Fprintf(b, `<text x="%d" y="%d" font-size="9" text-anchor="end">%.0f</text>`+"\n", x0-3, y0+8, yMax)
	}
	// The time axis, in seconds.
	yAxis := svgTop + len(cs)*(svgPanel+svgGap) + 12
	secs := float64(bins) * svgBin.Seconds()
	step := math.Max(1, math.Ceil(secs/12))
	for t := 0.0; t <= secs; t += step {
		x := float64(x0) + t/secs*svgColWidth
		fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="9" text-anchor="middle">%gs</text>`+"\n", x, yAxis, t)
	}
}
