package testutil

import (
	"fmt"

	"github.com/papermail/papermail/internal/model"
)

// corpusTopics are the research topics of Corpus, each with words that
// papers on it use. The first five are the interests delivery tests
// subscribe to; none is about protein folding or drug discovery, which
// tests use as an interest nothing matches.
var corpusTopics = []struct {
	phrase  string
	methods []string
	objects []string
}{
	{"semantic segmentation", []string{"boundary-aware decoders", "mask transformers", "label-efficient training", "multi-scale context"}, []string{"street scenes", "aerial imagery", "medical scans", "indoor rooms"}},
	{"neural machine translation", []string{"document-level context", "back-translation", "terminology constraints", "non-autoregressive decoding"}, []string{"low-resource languages", "legal texts", "subtitles", "technical manuals"}},
	{"graph neural networks", []string{"message passing", "graph rewiring", "positional encodings", "hierarchical pooling"}, []string{"molecule property tables", "citation graphs", "road networks", "social graphs"}},
	{"language models", []string{"instruction tuning", "retrieval augmentation", "long-context attention", "preference optimization", "speculative decoding", "quantized inference"}, []string{"code generation", "question answering", "math word problems", "dialogue agents"}},
	{"reinforcement learning", []string{"offline policy learning", "reward shaping", "model-based planning", "curiosity bonuses"}, []string{"robot arms", "board games", "traffic signals", "warehouse logistics"}},
	{"speech recognition", []string{"streaming encoders", "self-supervised pretraining", "accent adaptation"}, []string{"meetings", "call centres", "noisy kitchens"}},
	{"image generation", []string{"diffusion sampling", "latent autoencoders", "guidance schedules"}, []string{"product photos", "illustrations", "satellite tiles"}},
	{"time series forecasting", []string{"seasonal decomposition", "patch transformers", "probabilistic heads"}, []string{"electricity load", "retail demand", "river levels"}},
	{"federated learning", []string{"secure aggregation", "client drift correction", "personalized heads"}, []string{"hospitals", "phones", "banks"}},
	{"3d reconstruction", []string{"neural radiance fields", "gaussian splatting", "multi-view stereo"}, []string{"city blocks", "museum objects", "human bodies"}},
}

// Corpus returns n research papers written for tests by papermail's
// authors (no real paper's words): fixed ids 2612.NNNNN, titles and
// abstracts about corpusTopics, without dates or votes, as a listing page
// gives them. The same n gives the same papers. Tests that only need a realistic day of papers (delivery,
// scheduling) use it when the shared listing page is absent.
func Corpus(n int) []model.Paper {
	papers := make([]model.Paper, 0, n)
	for i := range n {
		t := corpusTopics[i%len(corpusTopics)]
		k := i / len(corpusTopics)
		method := t.methods[k%len(t.methods)]
		object := t.objects[(k/len(t.methods))%len(t.objects)]
		variant := k / (len(t.methods) * len(t.objects))
		title := fmt.Sprintf("%s with %s for %s", capitalize(t.phrase), method, object)
		if variant > 0 {
			title += fmt.Sprintf(", part %d", variant+1)
		}
		abstract := fmt.Sprintf("We study %s for %s. Existing approaches to %s struggle when data about %s is scarce or noisy. "+
			"We propose a method based on %s, analyse when it helps, and evaluate it on %d benchmarks, "+
			"where it improves over strong baselines by %d.%d points. Code and data are released.",
			t.phrase, object, t.phrase, object, method, 2+i%4, 1+i%7, i%10)
		// Like a listing page: no dates, so a paper's date is when it
		// is stored.
		papers = append(papers, model.Paper{
			ID:       fmt.Sprintf("2612.%05d", 10001+i),
			Title:    title,
			Abstract: abstract,
			Source:   "page",
		})
	}
	return papers
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
