package llmretry

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func TestReplaceModel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, model, want string
		ok                      bool
	}{
		{"simple", `{"model":"a","messages":[]}`, "b", `{"model":"b","messages":[]}`, true},
		{"only the top level, spacing kept",
			"{ \"messages\" : [ {\"model\":\"inner\"} ] ,\n \"model\" : \"a\" ,\t\"n\":1.50e3}", "b",
			"{ \"messages\" : [ {\"model\":\"inner\"} ] ,\n \"model\" : \"b\" ,\t\"n\":1.50e3}", true},
		{"escaped key", `{"mod\u0065l":"a"}`, "b", `{"mod\u0065l":"b"}`, true},
		{"every top-level duplicate", `{"model":"a","x":{"model":"keep"},"model":"c"}`, "b", `{"model":"b","x":{"model":"keep"},"model":"b"}`, true},
		{"escaped value replaced whole", `{"model":"a\"b\\","z":null}`, "b", `{"model":"b","z":null}`, true},
		{"new model JSON-encoded", `{"model":"a"}`, `q"<é>`, `{"model":"q\"\u003cé\u003e"}`, true},
		{"key text inside a string value", `{"x":"\"model\":\"a\"","model":"a"}`, "b", `{"x":"\"model\":\"a\"","model":"b"}`, true},
		{"leading and trailing space kept", " \n{\"model\":\"a\"}\n", "b", " \n{\"model\":\"b\"}\n", true},
		{"model last, nested values before", `{"a":[1,[2,{"b":"}"}]],"c":{"d":{}},"model":"x"}`, "y", `{"a":[1,[2,{"b":"}"}]],"c":{"d":{}},"model":"y"}`, true},
		{"no model", `{"messages":[]}`, "b", "", false},
		{"model not a string", `{"model":{"name":"a"}}`, "b", "", false},
		{"one duplicate not a string", `{"model":"a","model":1}`, "b", "", false},
		{"model null", `{"model":null}`, "b", "", false},
		{"not an object", `["model","a"]`, "b", "", false},
		{"not JSON", `model=a`, "b", "", false},
		{"truncated JSON", `{"model":"a"`, "b", "", false},
		{"empty", ``, "b", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := replaceModel([]byte(tt.body), tt.model)
			if ok != tt.ok || string(got) != tt.want {
				t.Errorf("replaceModel(%q, %q) = %q, %v; want %q, %v", tt.body, tt.model, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzReplaceModel(f *testing.F) {
	for _, s := range []string{`{"model":"a","messages":[{"role":"user","content":"hi"}]}`, `{"mod\u0065l":"a"}`,
		`{"a":[1,{"model":"x"}],"model":"y","model":"z"}`, `{"model":1}`, `[]`, `{}`, `{"model":"\ud83d"}`} {
		f.Add([]byte(s), "gob-small")
	}
	f.Fuzz(func(t *testing.T, body []byte, model string) {
		out, ok := replaceModel(body, model)
		if !ok {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON out of %q: %q", body, out)
		}
		var in, res map[string]any
		if json.Unmarshal(body, &in) != nil || json.Unmarshal(out, &res) != nil {
			t.Fatalf("not objects: %q → %q", body, out)
		}
		if m, _ := json.Marshal(model); !bytes.Contains(out, m) {
			t.Errorf("%q does not hold the model %s", out, m)
		}
		// encoding/json keeps the last duplicate; every top-level string
		// "model" was replaced, so the decoded model is the new one, and
		// nothing else changed.
		var want string
		_ = json.Unmarshal(mustMarshal(model), &want)
		if res["model"] != want {
			t.Errorf("decoded model %q, want %q", res["model"], want)
		}
		delete(in, "model")
		delete(res, "model")
		if !reflect.DeepEqual(in, res) {
			t.Errorf("other members changed: %v → %v", in, res)
		}
	})
}

func mustMarshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
