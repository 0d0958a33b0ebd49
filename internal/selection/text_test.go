package selection

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
)

func TestWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"CLIP's image representation", []string{"clip", "image", "representation"}},
		{"models’ outputs", []string{"models", "outputs"}},
		{"Mixture-of-Experts (MoE) layers", []string{"mixture", "of", "experts", "moe", "layers"}},
		{"don't", []string{"don", "t"}},
		{"GPT-4 and T5, 3D ViTs", []string{"gpt", "4", "and", "t5", "3d", "vits"}},
		{"U-Net, k-means and top-k; a-b-c", []string{"unet", "kmeans", "and", "topk", "abc"}},
		{"GRUs, GANs and ViTs; bus", []string{"gru", "gan", "and", "vits", "bus"}},
		{"Ünïcode naïve Straße", []string{"ünïcode", "naïve", "straße"}},
		{"", nil},
		{"  ...  ", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, w := range words(tt.in) {
			got = append(got, w.lower)
			if f := strings.ReplaceAll(tt.in[w.start:w.end], "-", ""); !strings.EqualFold(f, w.lower) && !strings.EqualFold(f, w.lower+"s") && !strings.ContainsAny(tt.in[w.start:w.end], "İ") {
				t.Errorf("%q: span %q does not fold to %q", tt.in, tt.in[w.start:w.end], w.lower)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("words(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStem(t *testing.T) {
	tests := map[string]string{
		"segmentation":     "segment",
		"segmentations":    "segment",
		"llms":             "llm",
		"gnns":             "gnn",
		"vaes":             "vae",
		"3ds":              "3d",
		"t5":               "t5",
		"transformers":     "transformer",
		"transform":        "transform",
		"generalization":   "generaliz",
		"general":          "general",
		"explanations":     "explain",
		"explaining":       "explain",
		"faster":           "fast",
		"encoders":         "encoder",
		"decoding":         "decod",
		"decoders":         "decoder",
		"residues":         "residue",
		"residual":         "residu",
		"retrievers":       "retriev",
		"quantization":     "quantiz",
		"interpretability": "interpret",
		"ab":               "ab",
	}
	// British spellings meet the American ones.
	for british, american := range map[string]string{
		"optimisation": "optimization", "optimised": "optimized", "quantisation": "quantization",
		"tokenisers": "tokenizers", "summarise": "summarize", "visualisation": "visualization",
		"recognised": "recognized", "generalise": "generalize", "modelling": "modeling",
		"labelled": "labeled", "travellers": "travelers", "behaviour": "behavior",
		"behavioural": "behavioral", "colours": "colors", "tumours": "tumors", "neighbourhood": "neighborhood",
		"analyse": "analyze", "analysed": "analyzed", "centre": "center", "paediatric": "pediatric",
		"colourised": "colorized", "grey": "gray", "defence": "defense", "artefacts": "artifacts",
		// and a specialist meets the field
		"radiologists": "radiology", "biologist": "biology", "physicists": "physics",
		"mathematicians": "mathematics", "roboticist": "robotics", "musicians": "music",
	} {
		if got, want := stem(british), stem(american); got != want {
			t.Errorf("stem(%q) = %q, want %q as for %q", british, got, want, american)
		}
	}
	// Words that only look British keep their own stems.
	for _, w := range []string{"pairwise", "otherwise", "noise", "raise", "exercise", "precise", "supervised",
		"promising", "telling", "spelling", "four", "hour", "contour", "analysis", "analyses"} {
		if got, want := stem(w), english.Stem(w, true); got != want {
			t.Errorf("stem(%q) = %q, want Snowball's %q", w, got, want)
		}
	}
	for in, want := range tests {
		if got := stem(in); got != want {
			t.Errorf("stem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStemsQuery(t *testing.T) {
	tests := []struct {
		in    string
		query bool
		want  []string
	}{
		{"making LLMs decode faster", true, []string{"llm", "decod", "fast"}},
		{"making LLMs decode faster", false, []string{"make", "llm", "decod", "fast"}},
		{"learning without labels", true, []string{"learn", "without", "label"}},
		{"learning without labels", false, []string{"learn", "label"}},
		{"Why did the model predict this?", true, []string{"why", "model", "predict"}},
		{"the of and", true, nil},
	}
	for _, tt := range tests {
		if got := stems(tt.in, tt.query); !slices.Equal(got, tt.want) {
			t.Errorf("stems(%q, %v) = %q, want %q", tt.in, tt.query, got, tt.want)
		}
	}
}

func TestQueryStemsJoined(t *testing.T) {
	tests := []struct {
		in     string
		want   []string
		joined uint64
	}{
		{"text-to-speech systems", []string{"text", "speech", "system"}, 0b01},
		{"text to speech", []string{"text", "speech"}, 0},
		{"self-supervised vision-language pre-training", []string{"self", "supervis", "vision", "languag", "pre", "train"}, 0b10101},
		{"making LLMs decode faster", []string{"llm", "decod", "fast"}, 0},
	}
	for _, tt := range tests {
		st, joined := queryStems(tt.in)
		if !slices.Equal(st, tt.want) || joined != tt.joined {
			t.Errorf("queryStems(%q) = %q, %b; want %q, %b", tt.in, st, joined, tt.want, tt.joined)
		}
		if plain := stems(tt.in, true); !slices.Equal(plain, st) {
			t.Errorf("queryStems(%q) stems %q differ from stems %q", tt.in, st, plain)
		}
	}
}

func TestBoilerplateNotIndexed(t *testing.T) {
	text := "We study code search with transformers. Code and models are available at https://github.com/x/y."
	spans := boilerplate(text)
	if len(spans) != 1 || !strings.HasPrefix(text[spans[0].start:], "Code and models") {
		t.Fatalf("boilerplate spans %v", spans)
	}
	if inSpans(spans, strings.Index(text, "code search")) {
		t.Error("content sentence marked as boilerplate")
	}
}

func FuzzWords(f *testing.F) {
	for _, s := range []string{"CLIP's", "Mixture-of-Experts", "x’s y", "\xff\xfe", "İstanbul", "a'", "'s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		prev := 0
		for _, w := range words(s) {
			if w.start < prev || w.end <= w.start || w.end > len(s) {
				t.Fatalf("bad span [%d,%d) after %d in %q", w.start, w.end, prev, s)
			}
			if w.lower == "" || !utf8.ValidString(w.lower) && utf8.ValidString(s) {
				t.Fatalf("bad word %q in %q", w.lower, s)
			}
			prev = w.end
		}
		_ = stems(s, true)
	})
}

// TestStemCacheBounded stems more distinct words than the cache keeps: it
// starts over instead of growing, and stems stay right.
func TestStemCacheBounded(t *testing.T) {
	for i := range 2 * stemCacheMax {
		w := "layers" + strconv.Itoa(i)
		if got, want := stem(w), stemUncached(w); got != want {
			t.Fatalf("stem(%q) = %q, want %q", w, got, want)
		}
		if n := stemCacheLen.Load(); n > stemCacheMax {
			t.Fatalf("stem cache holds %d words, want at most %d", n, stemCacheMax)
		}
	}
	if got := stem("transformers"); got != "transformer" {
		t.Errorf("stem(transformers) after the cache started over = %q", got)
	}
	if _, ok := stemCache.Load("transformers"); !ok {
		t.Error("a word stemmed after the cache filled up is not cached")
	}
}
