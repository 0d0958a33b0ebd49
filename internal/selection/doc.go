// Package selection ranks the candidate papers of a digest run for each
// subscriber: by relevance to the subscriber's interests, blended with how
// much each paper is trending, above a relevance floor, without papers
// already sent, and with the words that made each pick relevant.
//
// # Use
//
// Build one Index per digest run with NewIndex over the candidate papers;
// it is read-only afterwards and shared by all goroutines. Per subscriber,
// Compile a Profile into a Query and call Select. Trending serves the
// "trending" fallback for subscribers without matches, and Highlight (or a
// Highlighter) marks Pick.Matched in titles and abstracts for templates.
//
// # Ranking
//
// Papers are indexed by field (title, keywords, abstract) with Snowball
// stems (plus exceptions where Snowball merges different words, such as
// "continual" and "continuous"; British spellings are made American
// first, so "optimisation", "modelling" and "tumour" meet "optimization",
// "modeling" and "tumor"), stop words dropped and code-availability
// sentences ignored. A single letter hyphenated to a word is one word
// ("U-Net", "k-means") and an acronym's plural is the acronym ("GRUs").
// Mentions inside enumerations of an abstract ("computer vision, speech
// recognition, information retrieval and more") count half: they are
// passing mentions, not the paper's topic.
//
// An interest is split into concepts ("slots"): phrases of the lexicon
// (lexicon.txt, embedded: research-term synonyms, abbreviations, related
// terms and plain-language words such as "faster" or "photos"), found as
// written, with single-word synonyms ("photos" for "images") or with
// their words apart and in another order; each word the lexicon does not
// know is a concept of its own, found by its stem or by its dictionary
// synonyms and forms (wordnet.txt, derived from WordNet 3.0 by
// scripts/wordnet: "compose" finds "composition", "shrunk" "shrink"),
// which also stand in for a word of the reader's own phrase in partial
// matches, and, weakly, by the terms the few candidates using it share and
// the others rarely have (pointwise mutual information over the window:
// "dog" finds "quadruped" where papers say "robot dog"). Synonyms are used only for words papers rarely use themselves,
// so a common word's other senses add no noise. Lexicon phrases that are a single or only generic words once
// stop words are gone ("what people see") are no keys; one of two words
// or more whose words interests drop ("look up") is an idiom, found in the
// interest's raw words in order with at most two words between them
// ("look things up") and expanded to its research terms only. A phrase
// that names
// a subject and an aspect of it at once ("LLM inference", declared with
// "=" in the lexicon) is a concept each, so a paper must cover the subject
// too, not only the aspect in another field (faster video diffusion).
//
// A concept matches a paper through any of its alternatives: the reader's
// own words (as a phrase, words in order with at most one other word
// between them and no punctuation; partial credit when only some words
// are there, weighted by how rare each word is; none for a hyphenated
// term such as "text-to-speech") or a lexicon expansion (whole matches
// only; related terms weighed down when common in the candidates). A
// one-word synonym that is the modifier of the reader's phrase ("causal",
// which the stemmer makes of "causality", for "causal inference") is not
// used. Term frequencies are BM25F-saturated with the title weighing most.
// A word that occurs only inside a lexicon phrase of another meaning
// ("circuits" in "probabilistic circuits") counts little.
//
// Two rules keep interests the candidates are not about from matching:
// when no candidate names a concept (by the reader's words, a synonym or
// a plain-language rendering), its related terms are not used ("graphs"
// for "traffic prediction"); and when no candidate has the concept
// prominently (in a title, repeatedly, or by two different terms), its
// passing mentions count for so little that alone they stay below the
// floor.
//
// An interest's relevance is the rarity-weighted mean of its concepts'
// matches times the share of its research concepts the paper covers (for
// a description of four words or more, a root of that share, and an
// everyday word no paper uses may be left out: the papers say it in other
// words; in a description of five concepts or more, so may an everyday
// word the lexicon renders in research terms ("puzzles") that no paper
// matches well, or a word nothing knows that no paper has ("shoebox"),
// the rarest first; an everyday word weighs at most as a word in a tenth of the
// papers, however rare in research text; in a description of five
// concepts or more with a research concept some paper names, everyday
// words weigh half and only the research concepts count towards the
// share; a lexicon word with only synonyms, such as "describe", is an
// everyday word too), so
// one common word ("neural", "model") does not make a match, everyday
// words ("teaching", "read") do not sink a paraphrase, and a concept the
// candidates do not have at all keeps an interest from matching. Scores
// are normalized to 0..1, so the floor (Options.Floor) means the same for
// every interest and an interest nothing matches gets no papers. An
// interest fewer than ten papers match in full has a second pass whose
// papers rank in a band just above the floor: for a description of three
// concepts or more with everyday words, papers with most of its weight
// once the everyday words no paper uses are left out (a term of one or
// two concepts gets no such relaxing: what no paper has, it does not
// get); and papers like two of its best matches (pseudo-relevance
// feedback from the distinctive terms of up to three papers of
// relevance 0.3 or more).
//
// An interest that turns one medium into another in plain words ("turn a
// few sentences into a film", "photos into 3D models") has a concept of
// the field's names for that task (text-to-video, image-to-3D).
//
// An interest that joins research terms with "and" or "or" ("sparse
// autoencoders and circuit analysis"), each part a term of at most four
// words with a research concept, matches the papers of either term: a
// paper's relevance is its best term's, raised by the other's.
//
// Last, an interest some papers match is fused by reciprocal rank with
// plain BM25F over the reader's own words (title, keywords and abstract
// as indexed), so a literal interest never loses BM25F's good hits: the
// concept ranking's relevances are handed out in the fused order, and
// papers only BM25F finds join below them when the best match covers
// every concept of the interest and they cover most of its concepts and
// a good share of its words' weight. An interest no paper matches gets
// nothing from it.
//
// A profile's relevance for a paper is its best interest plus a softened
// share of the others; feedback adds the likeness to liked papers and
// takes away the likeness to disliked ones (which are never picked);
// example papers act as "more like this" interests. The final score is
// relevance × (0.8 + 0.2 × trending): relevance dominates and trending
// reorders comparable papers. Papers with the same normalized title (one
// paper from two feeds) are picked once.
//
// # Many readers, one run
//
// Most readers of a run share interests, so each distinct interest is
// scored once per Index (once per run, over its candidates) and its
// readers share the result. Compiled interests are cached in the Index by
// their normalized text (white space collapsed; wordings that differ only
// in stop words share one compilation by their stems). The cache is
// bounded: two generations of 2,048 interests, so past 2,048 new ones the
// older generation is dropped (an interest used again moves to the
// current one and stays) and a dropped interest is compiled again by its
// next reader; a run's memory does not grow with the number of distinct
// interests its readers wrote. With an interest goes its ranking, built
// by the first Select that uses it: its papers by relevance, best first,
// and the words it matched in each paper picked for one of its readers.
//
// Per reader, Select merges the rankings of the reader's interests (and
// examples and library entries) by the rule above: each paper's best
// interest plus a softened share of the others, feedback, followed
// authors and categories. The lists' best papers come first, until the
// digest is full; of the other papers matched, only those whose score
// bound (the softening without its exponential) could beat the last pick
// are scored, and papers already sent, disliked or examples are skipped
// as they come. The matched words of a pick are the interests' shared
// ones. The picks are exactly those of scoring every matched paper for
// the reader alone (TestSelectSharedRankings).
package selection
