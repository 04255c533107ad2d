package llmretry

import "testing"

func TestJSONIter(t *testing.T) {
	t.Parallel()
	arr := newJSONIter([]byte(` [ 1 , "a\"]," , {"k":[1,{"x":"}"}]} , [[]], null ] `))
	var got []string
	for e, ok := arr.elem(); ok; e, ok = arr.elem() {
		got = append(got, string(e))
	}
	want := []string{`1`, `"a\"],"`, `{"k":[1,{"x":"}"}]}`, `[[]]`, `null`}
	if len(got) != len(want) {
		t.Fatalf("elements %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("element %d = %s, want %s", i, got[i], want[i])
		}
	}
	obj := newJSONIter([]byte(`{"@type" : "t", "n":-1.5e3,"o":{"a":"b"} }`))
	fields := map[string]string{}
	for k, v, ok := obj.field(); ok; k, v, ok = obj.field() {
		fields[string(k)] = string(v)
	}
	if fields[`"@type"`] != `"t"` || fields[`"n"`] != `-1.5e3` || fields[`"o"`] != `{"a":"b"}` || len(fields) != 3 {
		t.Errorf("fields = %q", fields)
	}
	// Invalid or truncated input stops the walk; it never panics.
	for _, s := range []string{``, `[`, `{`, `["unterminated`, `{"k"`, `{"k":`, `[{]`, `{1:2}`, `"`, `[,,,]`, `{"a":[}`} {
		it := newJSONIter([]byte(s))
		for n := 0; n < 100; n++ {
			if _, ok := it.elem(); !ok {
				break
			}
		}
		it = newJSONIter([]byte(s))
		for n := 0; n < 100; n++ {
			if _, _, ok := it.field(); !ok {
				break
			}
		}
	}
}
