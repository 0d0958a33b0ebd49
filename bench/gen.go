package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/due"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
)

// topic is one research area: the phrases papers about it use, and the
// ways readers name it as an interest.
type topic struct {
	terms     []string
	interests []string
}

// topics are the research areas the synthetic papers are written about.
// Every topic gives four interests, so there are four times as many
// interest phrases as topics.
var topics = []topic{
	{[]string{"video diffusion model", "text-to-video generation", "temporal consistency", "video synthesis"},
		[]string{"diffusion models for video generation", "text-to-video", "video synthesis", "temporal consistency in generated video"}},
	{[]string{"image diffusion model", "denoising diffusion", "score-based generative model", "classifier-free guidance"},
		[]string{"diffusion models", "score-based generative models", "classifier-free guidance", "image generation with diffusion"}},
	{[]string{"speculative decoding", "LLM inference", "draft model", "decoding latency"},
		[]string{"making LLM inference faster", "speculative decoding", "fast decoding for language models", "inference latency of large language models"}},
	{[]string{"KV cache", "cache compression", "long-context inference", "attention memory"},
		[]string{"KV cache compression", "long context language models", "memory-efficient attention", "serving long prompts"}},
	{[]string{"mixture of experts", "expert routing", "sparse activation", "load balancing loss"},
		[]string{"mixture of experts", "sparse expert models", "expert routing", "conditional computation"}},
	{[]string{"post-training quantization", "4-bit weights", "quantized language model", "outlier channels"},
		[]string{"quantization of LLMs", "low-bit quantization", "post-training quantization", "running LLMs on small GPUs"}},
	{[]string{"graph neural network", "message passing", "over-squashing", "node classification"},
		[]string{"graph neural networks", "message passing neural networks", "over-squashing in GNNs", "node classification"}},
	{[]string{"molecular property prediction", "graph neural network", "drug discovery", "molecule generation"},
		[]string{"graph neural networks for molecules", "drug discovery with machine learning", "molecule generation", "molecular property prediction"}},
	{[]string{"protein structure prediction", "protein language model", "protein design", "binding affinity"},
		[]string{"protein structure prediction", "protein language models", "protein design", "machine learning for biology"}},
	{[]string{"semantic segmentation", "pixel-level labels", "segmentation mask", "dense prediction"},
		[]string{"semantic segmentation", "image segmentation", "dense prediction", "segmenting objects in images"}},
	{[]string{"object detection", "bounding box", "detection transformer", "open-vocabulary detection"},
		[]string{"object detection", "open-vocabulary detection", "detection transformers", "finding objects in images"}},
	{[]string{"3D Gaussian splatting", "novel view synthesis", "neural radiance field", "scene reconstruction"},
		[]string{"gaussian splatting", "neural radiance fields", "novel view synthesis", "3D scene reconstruction"}},
	{[]string{"robot manipulation", "imitation learning", "demonstrations", "visuomotor policy"},
		[]string{"robot learning from demonstrations", "imitation learning", "robot manipulation", "visuomotor policies"}},
	{[]string{"legged locomotion", "sim-to-real transfer", "reinforcement learning", "quadruped robot"},
		[]string{"legged robot locomotion", "sim-to-real transfer", "reinforcement learning for robots", "quadruped robots"}},
	{[]string{"speech recognition", "noisy audio", "acoustic model", "word error rate"},
		[]string{"speech recognition in noisy rooms", "automatic speech recognition", "robust ASR", "speech to text"}},
	{[]string{"text-to-speech", "speech synthesis", "voice cloning", "neural vocoder"},
		[]string{"text to speech", "speech synthesis", "voice cloning", "neural vocoders"}},
	{[]string{"retrieval-augmented generation", "dense retriever", "open-domain question answering", "external knowledge"},
		[]string{"retrieval augmented generation", "RAG", "open-domain question answering", "dense retrieval"}},
	{[]string{"chain-of-thought", "mathematical reasoning", "reasoning traces", "step-by-step solutions"},
		[]string{"chain of thought reasoning", "math reasoning in LLMs", "reasoning models", "step by step reasoning"}},
	{[]string{"hallucination", "factual consistency", "fact checking", "faithfulness"},
		[]string{"LLM hallucination", "factuality of language models", "fact checking", "faithful text generation"}},
	{[]string{"LLM agent", "tool use", "web navigation", "function calling"},
		[]string{"LLM agents", "tool use by language models", "web agents", "autonomous agents"}},
	{[]string{"reinforcement learning from human feedback", "reward model", "preference optimization", "alignment"},
		[]string{"RLHF", "preference optimization", "aligning language models", "reward models"}},
	{[]string{"jailbreak attack", "safety alignment", "red teaming", "harmful prompts"},
		[]string{"jailbreaking LLMs", "AI safety", "red teaming language models", "adversarial prompts"}},
	{[]string{"differential privacy", "private training", "membership inference", "privacy budget"},
		[]string{"differential privacy", "privacy in machine learning", "membership inference attacks", "private model training"}},
	{[]string{"federated learning", "client heterogeneity", "communication cost", "on-device training"},
		[]string{"federated learning", "training on devices", "decentralized learning", "communication-efficient training"}},
	{[]string{"vision-language model", "image captioning", "visual question answering", "multimodal instruction tuning"},
		[]string{"vision language models", "multimodal LLMs", "visual question answering", "image captioning"}},
	{[]string{"contrastive learning", "self-supervised representation", "image-text pretraining", "embedding space"},
		[]string{"contrastive learning", "self-supervised learning", "representation learning", "CLIP-style pretraining"}},
	{[]string{"code generation", "program synthesis", "unit tests", "code language model"},
		[]string{"code generation with LLMs", "program synthesis", "AI for programming", "code language models"}},
	{[]string{"automated theorem proving", "formal verification", "Lean proofs", "proof search"},
		[]string{"theorem proving", "formal mathematics", "neural proof search", "Lean"}},
	{[]string{"time series forecasting", "temporal patterns", "forecasting horizon", "multivariate series"},
		[]string{"time series forecasting", "forecasting with transformers", "multivariate time series", "demand forecasting"}},
	{[]string{"anomaly detection", "out-of-distribution detection", "novelty score", "outlier samples"},
		[]string{"anomaly detection", "out-of-distribution detection", "detecting outliers", "novelty detection"}},
	{[]string{"recommender system", "collaborative filtering", "user engagement", "sequential recommendation"},
		[]string{"recommender systems", "collaborative filtering", "sequential recommendation", "personalized recommendations"}},
	{[]string{"machine translation", "low-resource languages", "multilingual model", "translation quality"},
		[]string{"machine translation", "low-resource languages", "multilingual NLP", "neural translation"}},
	{[]string{"medical image segmentation", "radiology reports", "clinical data", "diagnostic accuracy"},
		[]string{"medical imaging", "AI for radiology", "clinical machine learning", "medical image segmentation"}},
	{[]string{"weather prediction", "climate model", "precipitation nowcasting", "earth system"},
		[]string{"weather forecasting with machine learning", "climate modeling", "precipitation nowcasting", "AI for earth science"}},
	{[]string{"mechanistic interpretability", "sparse autoencoder", "circuit analysis", "feature attribution"},
		[]string{"mechanistic interpretability", "sparse autoencoders", "explaining neural networks", "feature attribution"}},
	{[]string{"scaling laws", "compute-optimal training", "model size", "training tokens"},
		[]string{"scaling laws", "compute optimal training", "how models scale", "training large models efficiently"}},
	{[]string{"knowledge distillation", "student model", "teacher model", "model compression"},
		[]string{"knowledge distillation", "model compression", "small student models", "distilling large models"}},
	{[]string{"continual learning", "catastrophic forgetting", "task sequence", "replay buffer"},
		[]string{"continual learning", "catastrophic forgetting", "lifelong learning", "learning without forgetting"}},
	{[]string{"domain adaptation", "distribution shift", "target domain", "test-time adaptation"},
		[]string{"domain adaptation", "distribution shift", "test time adaptation", "robustness to dataset shift"}},
	{[]string{"adversarial examples", "certified robustness", "adversarial training", "perturbation budget"},
		[]string{"adversarial robustness", "adversarial examples", "certified defenses", "adversarial training"}},
	{[]string{"neural architecture search", "search space", "architecture encoding", "hardware-aware design"},
		[]string{"neural architecture search", "AutoML", "hardware aware neural networks", "architecture design"}},
	{[]string{"state space model", "linear recurrence", "selective scan", "long sequence modeling"},
		[]string{"state space models", "Mamba", "alternatives to attention", "long sequence modeling"}},
	{[]string{"efficient attention", "linear attention", "sparse attention", "attention kernel"},
		[]string{"efficient transformers", "linear attention", "sparse attention", "fast attention kernels"}},
	{[]string{"tabular data", "gradient boosted trees", "tabular foundation model", "feature engineering"},
		[]string{"deep learning on tabular data", "gradient boosting", "tabular foundation models", "machine learning for spreadsheets"}},
	{[]string{"causal inference", "treatment effect", "counterfactual estimation", "observational data"},
		[]string{"causal inference", "treatment effect estimation", "counterfactual reasoning", "causality in machine learning"}},
	{[]string{"Bayesian optimization", "Gaussian process", "acquisition function", "hyperparameter tuning"},
		[]string{"bayesian optimization", "gaussian processes", "hyperparameter optimization", "uncertainty estimation"}},
	{[]string{"offline reinforcement learning", "policy optimization", "value function", "reward shaping"},
		[]string{"offline reinforcement learning", "policy optimization", "reinforcement learning", "model-based RL"}},
	{[]string{"autonomous driving", "trajectory prediction", "motion planning", "lidar point clouds"},
		[]string{"autonomous driving", "trajectory prediction", "motion planning", "lidar perception"}},
	{[]string{"document understanding", "OCR-free parsing", "table extraction", "layout analysis"},
		[]string{"document understanding", "OCR", "table extraction from PDFs", "layout analysis"}},
	{[]string{"sentiment analysis", "social media text", "stance detection", "opinion mining"},
		[]string{"sentiment analysis", "social media analysis", "stance detection", "opinion mining"}},
}

// allInterests lists every topic's interests (four per topic).
func allInterests() []string {
	var out []string
	for _, t := range topics {
		out = append(out, t.interests...)
	}
	return out
}

var (
	syllables  = []string{"Ar", "Ve", "Lo", "Qua", "Ne", "Tri", "Sol", "Mi", "Dra", "Ka", "Ze", "Pho", "Ri", "Gla", "Tor", "Nu", "Ex", "Fi", "Om", "Sta", "Cor", "Lu", "Hy", "Pra"}
	suffixes   = []string{"Net", "Former", "Flow", "Diff", "Mix", "Align", "Bench", "GPT", "Seg", "Bot", "Mamba", "Lens", "Scope", "Tune", ""}
	adjectives = []string{"Scalable", "Efficient", "Robust", "Training-Free", "Unified", "Adaptive", "Faithful", "Lightweight", "Self-Supervised", "Calibrated", "Sparse", "Hierarchical"}
	apps       = []string{"low-resource settings", "edge devices", "scientific discovery", "open-world deployment", "long documents", "real-time systems", "clinical practice", "multilingual users"}
	weaknesses = []string{"degrade sharply under distribution shift", "require expensive manual annotation", "scale poorly with sequence length", "ignore the structure of the data", "are brittle when inputs are noisy", "trade accuracy for speed"}
	verbs      = []string{"combines", "replaces", "regularizes", "learns", "aligns", "decomposes", "calibrates", "compresses"}
	components = []string{"a lightweight gating network", "a contrastive objective", "a learned router", "a hierarchical memory", "a curriculum over task difficulty", "a small auxiliary model", "a frequency-domain loss", "a retrieval module"}
	scores     = []string{"accuracy", "F1", "success rate", "BLEU", "mean average precision", "calibration error", "throughput"}
	findings   = []string{"matters more than model size", "transfers across domains without retraining", "explains most of the remaining errors", "can be predicted from a small pilot run", "is largely redundant in deep layers"}
	datasetsA  = []string{"Arcadia", "Meridian", "Lumen", "Cobalt", "Harbor", "Sierra", "Juniper", "Orchid", "Basalt", "Tundra"}
	datasetsB  = []string{"QA", "Bench", "-1K", "Eval", "-Hard", "Set", "-XL"}
	firstNames = []string{"Ana", "Wei", "Priya", "Lukas", "Sofia", "Kenji", "Amara", "Mateo", "Ingrid", "Omar", "Yuki", "Elena", "Tariq", "Chloe", "Ravi", "Nadia", "Jonas", "Mei", "Diego", "Fatima"}
	lastNames  = []string{"Okafor", "Chen", "Rao", "Schmidt", "Rossi", "Tanaka", "Mensah", "Garcia", "Lindqvist", "Haddad", "Sato", "Petrova", "Aziz", "Martin", "Iyer", "Kowalski", "Berg", "Zhang", "Lopez", "Nasser"}
	categories = []string{"cs.LG", "cs.CL", "cs.CV", "cs.AI", "cs.RO", "stat.ML", "eess.AS", "q-bio.BM", "cs.IR", "cs.CR"}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// someInterests appends one to four distinct interests of interests to
// mine (empty or nil), as a reader of the bench writes them.
func someInterests(r *rand.Rand, interests, mine []string) []string {
	for k := len(mine) + 1 + r.IntN(4); len(mine) < k; {
		if s := pick(r, interests); !slices.Contains(mine, s) {
			mine = append(mine, s)
		}
	}
	return mine
}

// methodName invents a method name such as "QuaLoNet".
func methodName(r *rand.Rand) string {
	n := pick(r, syllables) + strings.ToLower(pick(r, syllables))
	if r.IntN(2) == 0 {
		n += strings.ToLower(pick(r, syllables))
	}
	return n + pick(r, suffixes)
}

// synthPaper writes one paper about a primary topic (and a secondary one
// mentioned in passing); every title names an invented method.
func synthPaper(r *rand.Rand, date time.Time, id string) model.Paper {
	t1, t2 := pick(r, topics), pick(r, topics)
	name := methodName(r)
	term := func(t topic) string { return pick(r, t.terms) }
	var title string
	switch r.IntN(4) {
	case 0:
		title = fmt.Sprintf("%s: %s %s for %s", name, pick(r, adjectives), capital(term(t1)), pick(r, apps))
	case 1:
		title = fmt.Sprintf("%s %s with %s in %s", pick(r, adjectives), capital(term(t1)), term(t2), name)
	case 2:
		title = fmt.Sprintf("Rethinking %s: %s Meets %s", capital(term(t1)), name, capital(term(t2)))
	default:
		title = fmt.Sprintf("%s: Towards %s %s", name, pick(r, adjectives), term(t1))
	}
	ds := func() string { return pick(r, datasetsA) + pick(r, datasetsB) }
	var ab strings.Builder
	fmt.Fprintf(&ab, "%s is central to %s, but existing %s methods %s. ", capital(term(t1)), pick(r, apps), term(t1), pick(r, weaknesses))
	fmt.Fprintf(&ab, "We propose %s, a %s approach that %s %s with %s. ", name, strings.ToLower(pick(r, adjectives)), pick(r, verbs), term(t1), pick(r, components))
	fmt.Fprintf(&ab, "Unlike prior work on %s, %s needs no extra labels and runs in time linear in the input size. ", term(t1), name)
	fmt.Fprintf(&ab, "On %d benchmarks, including %s and %s, %s improves %s by %d.%d points over strong %s baselines while using %d%% less compute. ",
		3+r.IntN(9), ds(), ds(), name, pick(r, scores), 1+r.IntN(9), r.IntN(10), term(t1), 10+r.IntN(60))
	fmt.Fprintf(&ab, "We also study %s and show that %s %s. ", term(t2), term(t2), pick(r, findings))
	fmt.Fprintf(&ab, "Ablations indicate that %s and the choice of %s account for most of the gains. ", pick(r, components), term(t1))
	if r.IntN(2) == 0 {
		ab.WriteString("Code, data and trained models are publicly released.")
	}
	authors := make([]string, 2+r.IntN(6))
	for i := range authors {
		authors[i] = pick(r, firstNames) + " " + pick(r, lastNames)
	}
	p := model.Paper{
		ID:         id,
		Title:      title,
		Abstract:   strings.TrimSpace(ab.String()),
		Authors:    authors,
		Categories: []string{pick(r, categories), pick(r, categories)},
		URL:        "https://arxiv.org/abs/" + id,
		Upvotes:    r.IntN(150),
		Comments:   r.IntN(12),
		Published:  date.UTC().Truncate(time.Second),
	}
	if r.IntN(3) == 0 {
		p.GitHubRepo = "https://github.com/example-lab/" + strings.ToLower(name)
	}
	if r.IntN(4) == 0 {
		p.TrendingAt = p.Published.Add(time.Duration(r.IntN(12)) * time.Hour)
	}
	return p
}

func capital(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// writePapers writes total synthetic papers as jsonl to path: candidates
// of them dated within the last window (before now), the rest older than
// old. It returns the file size.
func writePapers(path string, total, candidates int, now time.Time, window, old time.Duration) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("create papers file: %w", err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	r := rand.New(rand.NewPCG(1, 2))
	perMonth := map[string]int{}
	for i := range total {
		var date time.Time
		if i < candidates {
			// Spread over the window, leaving the last few minutes out so
			// no paper is "in the future" for a run started right after.
			date = now.Add(-time.Minute - time.Duration(r.Int64N(int64(window-2*time.Minute))))
		} else {
			date = now.Add(-old - time.Duration(r.Int64N(int64(3*365*24*time.Hour))))
		}
		ym := date.UTC().Format("0601")
		perMonth[ym]++
		if perMonth[ym] > 99999 {
			return 0, fmt.Errorf("more than 99999 papers in month %s: arXiv ids would repeat", ym)
		}
		id := fmt.Sprintf("%s.%05d", ym, perMonth[ym])
		p := synthPaper(r, date, id)
		if err := enc.Encode(&p); err != nil {
			return 0, fmt.Errorf("write paper %d: %w", i+1, err)
		}
	}
	if err := w.Flush(); err != nil {
		return 0, fmt.Errorf("write papers file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), f.Close()
}

// addSubscribers stores n active subscribers with 1-4 distinct interests
// each into the store at dbPath, in batches of one transaction each. The
// due index is kept with the delivery time the digest runs use, as a
// store that papermail has run on is: otherwise every measured run would
// first move every subscriber's due key (a one-time reschedule).
func addSubscribers(dbPath string, n int, now time.Time) error {
	st, err := store.Open(dbPath, store.Options{NoSync: true})
	if err != nil {
		return err
	}
	cfg := benchConfig()
	h, m := cfg.DefaultHour()
	err = st.SetPolicy(due.Policy{Loc: cfg.Location(), Hour: h, Minute: m})
	if err == nil {
		err = fillSubscribers(st, n, now)
	}
	if cerr := st.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", dbPath, cerr)
	}
	return err
}

func fillSubscribers(st *store.Store, n int, now time.Time) error {
	interests := allInterests()
	r := rand.New(rand.NewPCG(3, 4))
	const batchSize = 10000
	batch := make([]model.Subscriber, 0, batchSize)
	flush := func() error {
		existing, err := st.AddSubscribers(batch)
		if err != nil {
			return fmt.Errorf("add subscribers: %w", err)
		}
		if len(existing) > 0 {
			return fmt.Errorf("add subscribers: %d addresses already existed (first %s)", len(existing), existing[0])
		}
		batch = batch[:0]
		return nil
	}
	created := now.Add(-30 * 24 * time.Hour).UTC()
	for i := range n {
		mine := someInterests(r, interests, nil)
		batch = append(batch, model.Subscriber{
			Email:     fmt.Sprintf("reader%07d@example.net", i+1),
			Interests: mine,
			State:     model.StateActive,
			Created:   created, Updated: created, ConfirmedAt: created,
			Source: "import", Hour: model.HourDefault, Frequency: model.FrequencyDaily,
		})
		if len(batch) == batchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(batch) > 0 {
		return flush()
	}
	return nil
}
