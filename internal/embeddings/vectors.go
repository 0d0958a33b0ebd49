package embeddings

import (
	"context"
	"fmt"
	"strings"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/selection"
)

// Store is what the embeddings side needs of the store.
type Store interface {
	PutVectors(model string, vecs map[string][]float32) error
	Vectors(model string, ids []string) (map[string][]float32, error)
}

// maxText bounds the text of one paper sent to the provider.
const maxText = 4000

// interestSpace is the suffix of the model name interest vectors are
// stored under, apart from paper vectors.
const interestSpace = "#interests"

// PaperText is what a paper's vector is computed from: title and abstract.
func PaperText(p *model.Paper) string {
	t := p.Title + "\n" + p.Abstract
	if len(t) > maxText {
		t = t[:maxText]
	}
	return t
}

// EmbedPapers computes and stores vectors for those of papers that have
// none yet for c's model, in batches; papers with a vector are not sent
// again. It returns how many it added. On a provider failure the vectors
// of the batches done so far stay stored.
func EmbedPapers(ctx context.Context, c *Client, st Store, papers []model.Paper) (int, error) {
	ids := make([]string, len(papers))
	for i := range papers {
		ids[i] = papers[i].ID
	}
	have, err := st.Vectors(c.Model(), ids)
	if err != nil {
		return 0, err
	}
	var todo []*model.Paper
	for i := range papers {
		if _, ok := have[papers[i].ID]; !ok && papers[i].ID != "" {
			todo = append(todo, &papers[i])
		}
	}
	added := 0
	for start := 0; start < len(todo); start += BatchSize {
		batch := todo[start:min(start+BatchSize, len(todo))]
		texts := make([]string, len(batch))
		for i, p := range batch {
			texts[i] = PaperText(p)
		}
		vecs, err := c.Embed(ctx, texts)
		if err != nil {
			return added, err
		}
		put := make(map[string][]float32, len(batch))
		for i, p := range batch {
			put[p.ID] = vecs[i]
		}
		if err := st.PutVectors(c.Model(), put); err != nil {
			return added, fmt.Errorf("store paper vectors: %w", err)
		}
		added += len(batch)
	}
	return added, nil
}

// InterestVectors returns vectors for interest texts by
// selection.SemanticKey: stored ones, and the others fetched in batches
// and stored for the next runs.
func InterestVectors(ctx context.Context, c *Client, st Store, texts []string) (map[string][]float32, error) {
	seen := map[string]bool{}
	var keys []string
	for _, t := range texts {
		k := selection.SemanticKey(t)
		if k != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	space := c.Model() + interestSpace
	have, err := st.Vectors(space, keys)
	if err != nil {
		return nil, err
	}
	var todo []string
	for _, k := range keys {
		if _, ok := have[k]; !ok {
			todo = append(todo, k)
		}
	}
	if len(todo) > 0 {
		vecs, err := c.Embed(ctx, todo)
		if err != nil {
			return have, err
		}
		put := make(map[string][]float32, len(todo))
		for i, k := range todo {
			put[k] = vecs[i]
			have[k] = vecs[i]
		}
		if err := st.PutVectors(space, put); err != nil {
			return have, fmt.Errorf("store interest vectors: %w", err)
		}
	}
	return have, nil
}

// Status is the state of the embeddings provider after a digest run,
// for status and the log.
type Status struct {
	Model string `json:"model"`
	// OK is false when the run ranked with the built-in ranker alone.
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
	Papers int    `json:"papers"` // candidates with a vector
	At     string `json:"at"`
}

// String says the status in one line.
func (s Status) String() string {
	at := ""
	if s.At != "" {
		at = ", last run " + s.At
	}
	if s.OK {
		return fmt.Sprintf("%s: blended with the built-in ranking (%d candidate papers with vectors%s)", s.Model, s.Papers, at)
	}
	return fmt.Sprintf("%s: NOT USED, built-in ranking only (%s%s)", s.Model, strings.TrimSpace(s.Reason), at)
}
