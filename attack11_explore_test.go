package llmretry

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func attack11Line(t *testing.T, name string, cfg attack10Cfg) {
	cfg.notWoken = 150 * time.Millisecond
	r := attack10Big(t, cfg)
	g0, a0 := openaiGo(cfg, 0)
	g1, a1 := openaiGo(cfg, 1)
	fmt.Printf("X|%s|%v|%v|%d|%d|%v|%d|%v|%v\n", name, r.status, r.took.Round(time.Millisecond), len(r.at), g0, a0, g1, a1, r.at)
}

func TestAttack11Explore(t *testing.T) {
	if os.Getenv("ATTACK11_EXPLORE") == "" {
		t.Skip()
	}
	for _, retries := range []int{2, 3, 5, 6, 8, 10, 15} {
		for _, took := range []time.Duration{0, time.Second, 2 * time.Second} {
			for _, dl := range []time.Duration{6 * time.Second, 10 * time.Second, 16 * time.Second, 24 * time.Second, 40 * time.Second} {
				for _, refused := range []time.Duration{2 * time.Second, 5 * time.Second, 9 * time.Second, 14 * time.Second, 19 * time.Second, 23 * time.Second} {
					if refused >= dl {
						continue
					}
					name := fmt.Sprintf("slow R%d took%v dl%v ref%v", retries, took, dl, refused)
					cfg := attack10Cfg{retries: retries, deadline: dl, answer: refusedUntil(refused, took)}
					t.Run(name, func(t *testing.T) { t.Parallel(); attack11Line(t, name, cfg) })
				}
			}
		}
	}
}

func TestAttack11Explore2(t *testing.T) {
	if os.Getenv("ATTACK11_EXPLORE2") == "" {
		t.Skip()
	}
	type D struct {
		name             string
		base, maxD, bmin time.Duration
	}
	for _, retries := range []int{1, 2, 4, 7, 9, 12, 20} {
		for _, dl := range []time.Duration{3 * time.Second, 8 * time.Second, 12 * time.Second, 20 * time.Second, 30 * time.Second} {
			for _, refused := range []time.Duration{1 * time.Second, 4 * time.Second, 7 * time.Second, 11 * time.Second, 17 * time.Second, 25 * time.Second} {
				if refused >= dl {
					continue
				}
				name := fmt.Sprintf("fast R%d dl%v ref%v", retries, dl, refused)
				cfg := attack10Cfg{retries: retries, deadline: dl, answer: refusedUntil(refused, 0)}
				t.Run(name, func(t *testing.T) { t.Parallel(); attack11Line(t, name, cfg) })
				name2 := fmt.Sprintf("hint R%d dl%v ref%v", retries, dl, refused)
				cfg2 := attack10Cfg{retries: retries, deadline: dl, answer: func(n int, at time.Duration) (int, string, time.Duration) {
					if at >= refused {
						return 200, "", 0
					}
					if n == 4 {
						return 429, "2", 0
					}
					return 429, "", 0
				}}
				t.Run(name2, func(t *testing.T) { t.Parallel(); attack11Line(t, name2, cfg2) })
				name3 := fmt.Sprintf("5xx R%d dl%v ref%v", retries, dl, refused)
				cfg3 := attack10Cfg{retries: retries, deadline: dl, answer: func(n int, at time.Duration) (int, string, time.Duration) {
					if at >= refused {
						return 200, "", 0
					}
					if n <= 3 {
						return 429, "", 0
					}
					return 503, "", 0
				}}
				t.Run(name3, func(t *testing.T) { t.Parallel(); attack11Line(t, name3, cfg3) })
				for _, d := range []D{{"base2s", 2 * time.Second, 0, 0}, {"base100ms-max400ms", 100 * time.Millisecond, 400 * time.Millisecond, 40 * time.Millisecond}, {"base1s-max2s", time.Second, 2 * time.Second, 0}} {
					name := fmt.Sprintf("%s R%d dl%v ref%v", d.name, retries, dl, refused)
					cfg := attack10Cfg{retries: retries, deadline: dl, base: d.base, maxD: d.maxD, backoffMin: d.bmin, answer: refusedUntil(refused, 0)}
					t.Run(name, func(t *testing.T) { t.Parallel(); attack11Line(t, name, cfg) })
				}
			}
		}
	}
}

func TestAttack11Conc(t *testing.T) {
	if os.Getenv("ATTACK11_CONC") == "" {
		t.Skip()
	}
	for _, retries := range []int{6, 10, 15} {
		for _, refused := range []time.Duration{time.Second, 3 * time.Second, 8 * time.Second} {
			for _, dl := range []time.Duration{5 * time.Second, 10 * time.Second, 24 * time.Second} {
				for _, took := range []time.Duration{0, 500 * time.Millisecond} {
					name := fmt.Sprintf("conc8 R%d ref%v dl%v took%v", retries, refused, dl, took)
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						r := attack10Big(t, attack10Cfg{retries: retries, deadline: dl, concurrency: 8, notWoken: 150 * time.Millisecond, answer: refusedUntil(refused, took)})
						fmt.Printf("C|%s|ok %d/8 took %v attempts %d small %d\n", name, r.ok(), r.took.Round(time.Millisecond), len(r.at), r.small)
					})
				}
			}
		}
	}
}
