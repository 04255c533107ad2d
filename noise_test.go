package llmretry

import (
	"testing"
	"time"
)

// noiseTest weighs what a cut did to the share accepted: the same share at
// half the rate is random refusals (three such samples drop the estimate),
// twice the share is a limit (no amount of such samples does), and a sample
// with nothing accepted is no evidence either way for random refusals.
func TestNoiseTestTellsRandomFromLimit(t *testing.T) {
	t.Parallel()
	at := func(ms int) int64 { return testNow.Add(time.Duration(ms) * time.Millisecond).UnixNano() }
	// 16 answers sent over 750 ms (20/s) after a cut from 40/s at a fifth accepted.
	sample := func(k int) noiseProbe {
		return noiseProbe{from: 1, pb: 0.2, sentBefore: 40, n: 16, k: k, firstAt: at(0), last: at(750)}
	}
	fresh := func() *estimate {
		e := &estimate{base: 20, measured: true, cutAt: testNow, nz: &noiseState{}}
		for i := 0; i < 40; i++ { // the answers since the estimate started: a fifth accepted
			e.sampled(ticket{seq: uint64(i + 1), at: at(i * 25)}, i%5 == 0, testNow)
		}
		return e
	}

	e := fresh()
	for i := 1; i <= 3; i++ {
		dropped := e.noiseTest(sample(3), testNow) // 3 of 16: a fifth, as before the cut
		if want := i == 3; dropped != want {
			t.Fatalf("random refusals, sample %d: dropped %v (evidence %.2f), want %v", i, dropped, e.nz.noiseLLR, want)
		}
	}
	if e.base != 0 || !e.nz.noisy {
		t.Errorf("after random refusals: estimate %.1f/s, noisy %v; want none, and noisy", e.base, e.nz.noisy)
	}
	// A later 429 at that share neither cuts nor starts an estimate; one far
	// over it (a limit on top) does.
	e.cut(testNow.Add(time.Second), 5, 0.8, 40, 5, time.Time{}, false, 100)
	if e.base != 0 {
		t.Errorf("a 429 at the noise's share started an estimate: %.1f/s", e.base)
	}
	e.cut(testNow.Add(2*time.Second), 5, 0.99, 400, 5, time.Time{}, false, 500)
	if e.base <= 0 {
		t.Errorf("a 429 far over the noise's share (99%% of 400) started no estimate")
	}

	e = fresh()
	for i := 0; i < 20; i++ {
		if e.noiseTest(sample(8), testNow) { // 8 of 16: twice the share at half the rate
			t.Fatalf("a limit's samples (twice the share accepted at half the rate) dropped the estimate at sample %d", i+1)
		}
	}
	if e.nz.noiseLLR != -noiseEvidence {
		t.Errorf("a limit's evidence %.2f, want floored at %.0f", e.nz.noiseLLR, -noiseEvidence)
	}
	// Then random refusals are found within 6 samples (the floor bounds a limit's evidence).
	n := 0
	for n = 1; n <= 6 && !e.noiseTest(sample(3), testNow); n++ {
	}
	if n > 6 {
		t.Errorf("after a limit's evidence, random refusals not found in 6 samples")
	}

	e = fresh()
	for i := 0; i < 20; i++ {
		if e.noiseTest(sample(0), testNow) { // nothing accepted: a server down
			t.Fatalf("samples with nothing accepted dropped the estimate (sample %d)", i+1)
		}
	}
}
