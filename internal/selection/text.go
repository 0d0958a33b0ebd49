package selection

import (
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
)

// wordSpan is one word found in a text: its lower-cased form and its byte
// range in the original text.
type wordSpan struct {
	lower      string
	start, end int
}

// isWordRune reports whether r belongs to a word.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiWord[r]
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// asciiLower maps ASCII bytes to lower case.
var asciiLower = func() (t [utf8.RuneSelf]byte) {
	for c := range utf8.RuneSelf {
		t[c] = byte(c)
		if 'A' <= c && c <= 'Z' {
			t[c] += 'a' - 'A'
		}
	}
	return t
}()

var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	return t
}()

// forEachWord calls fn for every word of s: a maximal run of letters and
// digits, with its byte range. A possessive "'s" is dropped, other
// apostrophes inside a word ("don't") split it, and a single letter
// hyphenated to a word is one word with it ("U-Net" is "unet"). lower is
// the lower-cased word in a buffer that is reused: it is valid only
// during the call.
func forEachWord(s string, fn func(lower []byte, start, end int)) {
	sc := wordScanner{s: s}
	for {
		lower, start, end, ok := sc.next()
		if !ok {
			return
		}
		fn(lower, start, end)
	}
}

// wordScanner yields the words of s one by one, as forEachWord does,
// without a callback (so callers can keep their state on the stack).
type wordScanner struct {
	s   string
	i   int
	buf [64]byte
}

// next returns the next word, lower-cased in the scanner's buffer (valid
// until the next call), and its byte range; ok is false at the end.
func (sc *wordScanner) next() (lower []byte, start, end int, ok bool) {
	s, i := sc.s, sc.i
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if asciiWord[c] {
				break
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if isWordRune(r) {
			break
		}
		i += size
	}
	if i >= len(s) {
		sc.i = i
		return nil, 0, 0, false
	}
	start = i
	b := sc.buf[:0]
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if !asciiWord[c] {
				break
			}
			b = append(b, asciiLower[c])
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			break
		}
		b = utf8.AppendRune(b, unicode.ToLower(r))
		i += size
	}
	end = i
	// A single letter hyphenated to a word is one term with it:
	// "U-Net", "k-means", "t-SNE", "top-k".
	for i+1 < len(s) && s[i] == '-' && isLetterByte(s[i+1]) && (end-start == 1 && isLetterByte(s[start]) || i+2 == len(s) || !isWordByte(s, i+2)) {
		j := i + 1
		for j < len(s) && j < i+64 && isWordByte(s, j) && s[j] < utf8.RuneSelf {
			j++
		}
		if j < len(s) && isWordByte(s, j) {
			break // a non-ASCII or very long part: leave the hyphen
		}
		for _, c := range []byte(s[i+1 : j]) {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
		i, end = j, j
	}
	if acronymPlural(s[start:end]) {
		b = b[:len(b)-1] // "GRUs" is "gru", as "LLMs" is "llm"
	}
	// Possessive: "model's" or "models’" -> drop the 's.
	if i < len(s) && (s[i] == '\'' || strings.HasPrefix(s[i:], "’")) {
		q := 1
		if s[i] != '\'' {
			q = len("’")
		}
		if i+q < len(s) && (s[i+q] == 's' || s[i+q] == 'S') && (i+q+1 == len(s) || !isWordByte(s, i+q+1)) {
			i += q + 1
		}
	}
	sc.i = i
	return b, start, end, true
}

// acronymPlural reports whether w is an acronym of two or more capital
// letters with a plural "s" ("GRUs", "GANs").
func acronymPlural(w string) bool {
	if len(w) < 3 || w[len(w)-1] != 's' {
		return false
	}
	for i := 0; i < len(w)-1; i++ {
		if w[i] < 'A' || w[i] > 'Z' {
			return false
		}
	}
	return true
}

// isLetterByte reports whether c is an ASCII letter.
func isLetterByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// isWordByte reports whether the rune starting at s[i] is a word rune.
func isWordByte(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return isWordRune(r)
}

// words splits s into words (see forEachWord) with their spans.
func words(s string) []wordSpan {
	var out []wordSpan
	forEachWord(s, func(lower []byte, start, end int) {
		out = append(out, wordSpan{lower: string(lower), start: start, end: end})
	})
	return out
}

// stemCache memoizes Snowball stems of lower-cased words for the whole
// process. It starts over when it reaches stemCacheMax entries (about
// 5 MB), more than the words of a day's candidates, so a server that runs
// for months does not keep every word it ever met.
var (
	stemCache    sync.Map // string -> string
	stemCacheLen atomic.Int64
)

const stemCacheMax = 1 << 15

// stem returns the Snowball English stem of a lower-cased word, with the
// exceptions of stemExceptions. Words of fewer than three bytes are kept,
// and so are words with digits or non-ASCII letters, apart from a plural
// "s" ("3ds").
func stem(lower string) string {
	if v, ok := stemCache.Load(lower); ok {
		return v.(string)
	}
	st := stemUncached(lower)
	if _, loaded := stemCache.LoadOrStore(lower, st); !loaded && stemCacheLen.Add(1) >= stemCacheMax {
		stemCache.Clear()
		stemCacheLen.Store(0)
	}
	return st
}

func stemUncached(w string) string {
	if len(w) < 3 {
		return w
	}
	if s, ok := stemExceptions[w]; ok {
		return s
	}
	if root, ok := strings.CutSuffix(strings.TrimSuffix(w, "s"), "ologist"); ok && len(root) >= 2 {
		// The specialist is the field: "radiologists" is "radiology".
		return root + "olog"
	}
	if a := americanSpelling(w); a != w {
		if s, ok := stemExceptions[a]; ok {
			return s
		}
		w = a
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf || ('0' <= c && c <= '9') {
			// Mixed letters and digits ("t5", "3d", "gpt4") or non-ASCII:
			// keep, minus a trailing plural s ("3ds", "1990s").
			if c < utf8.RuneSelf && w[len(w)-1] == 's' {
				return w[:len(w)-1]
			}
			return w
		}
	}
	// Plural acronyms without vowels ("llms", "gnns", "cnns") keep their s
	// in Snowball; drop it so they meet their singular.
	if w[len(w)-1] == 's' && !strings.ContainsAny(w[:len(w)-1], "aeiouy") {
		return w[:len(w)-1]
	}
	return english.Stem(w, true)
}

// americanSpelling returns the American spelling of a British-spelled
// word ("optimisation", "modelling", "behaviour", "tumour", "centre",
// "paediatric"), so that both spellings meet in one stem, in papers and
// interests alike; other words are returned as they are. The -ise rule
// leaves "-wise" words and short words ("raise", "noise") alone; the
// rest are lists of word stems, as the patterns have many exceptions
// ("telling", "four").
func americanSpelling(w string) string {
	if a, ok := britishWords[w]; ok {
		return a
	}
	if len(w) < 5 {
		return w
	}
	for _, r := range britishOur {
		if strings.HasPrefix(w, r) {
			w = r[:len(r)-2] + "r" + w[len(r):]
			break
		}
	}
	for _, sfx := range [...]string{"isations", "isation", "ising", "ised", "ises", "isers", "iser", "ise"} {
		if strings.HasSuffix(w, sfx) {
			root := w[:len(w)-len(sfx)]
			if len(root) >= 4 && !strings.HasSuffix(w, "wise") && !britishIseKeep[w] {
				return root + "iz" + sfx[2:]
			}
			break
		}
	}
	for _, sfx := range [...]string{"ysing", "ysed", "yser", "yse"} {
		if strings.HasSuffix(w, sfx) && len(w) > len(sfx)+3 {
			return w[:len(w)-len(sfx)] + "yz" + sfx[2:]
		}
	}
	for _, sfx := range [...]string{"lling", "lled", "llers", "ller"} {
		if strings.HasSuffix(w, sfx) {
			if root := w[:len(w)-len(sfx)+1]; britishLl[root] {
				return root + sfx[2:]
			}
			break
		}
	}
	return w
}

// britishIseKeep are words in -ise that are spelled so in American English
// too, and that the -ize form would not meet anyway.
var britishIseKeep = toSet(`exercise exercises exercised exercising expertise enterprise enterprises
premise premises promise promises promised promising compromise compromised compromises surprise
surprised surprises surprising surprisingly advertise advertised advertising advertiser advertisers
franchise merchandise supervise supervised supervises supervising supervisor comprise comprises
comprised comprising concise precise imprecise otherwise disguise disguised improvise improvised
chastise despise paradise treatise demise reprise excise incise televise revise revised devise
devised advise advised adviser`)

// britishOur are word beginnings spelled "our" in British English and
// "or" in American ("behavioural", "colours", "neighbourhood").
var britishOur = []string{"behaviour", "colour", "neighbour", "favour", "labour", "humour", "rumour",
	"tumour", "harbour", "flavour", "honour", "vapour", "armour", "odour", "endeavour", "vigour",
	"savour", "rigour", "clamour", "splendour", "parlour"}

// britishLl are roots whose British inflections double the final l
// ("modelling", "labelled", "travellers").
var britishLl = toSet(`model label travel cancel signal channel level fuel tunnel counsel dial
total equal funnel marvel rival panel pixel shovel jewel duel`)

// britishWords are other British spellings, by whole word.
var britishWords = func() map[string]string {
	m := map[string]string{}
	for _, p := range strings.Split(`centre:center centres:centers centred:centered centring:centering
metre:meter metres:meters kilometre:kilometer kilometres:kilometers millimetre:millimeter
millimetres:millimeters fibre:fiber fibres:fibers theatre:theater litre:liter litres:liters
calibre:caliber spectre:specter defence:defense defences:defenses offence:offense licence:license
licences:licenses practise:practice practised:practiced practising:practicing programme:program
programmes:programs ageing:aging judgement:judgment judgements:judgments acknowledgement:acknowledgment
enrolment:enrollment fulfil:fulfill skilful:skillful analogue:analog catalogue:catalog catalogues:catalogs
dialogue:dialog dialogues:dialogs grey:gray greyscale:grayscale aluminium:aluminum mould:mold
paediatric:pediatric paediatrics:pediatrics haemorrhage:hemorrhage anaemia:anemia leukaemia:leukemia
orthopaedic:orthopedic haematology:hematology haemoglobin:hemoglobin anaesthesia:anesthesia
oesophagus:esophagus oesophageal:esophageal oestrogen:estrogen foetus:fetus foetal:fetal
diarrhoea:diarrhea oedema:edema manoeuvre:maneuver manoeuvres:maneuvers aeroplane:airplane
aeroplanes:airplanes sceptical:skeptical sceptic:skeptic tyre:tire tyres:tires storey:story
artefact:artifact artefacts:artifacts`, " ") {
		for _, f := range strings.Fields(p) {
			b, a, _ := strings.Cut(f, ":")
			m[b] = a
		}
	}
	return m
}()

// stemExceptions override Snowball where it merges words of different
// meaning ("generalization" and "general", "transformer" and "transform")
// or splits words of one meaning ("explanation" and "explain").
var stemExceptions = func() map[string]string {
	m := map[string]string{}
	for _, g := range []struct{ stem, words string }{
		{"generaliz", "generalization generalizations generalize generalizes generalized generalizing generalisation generalise generalised generalizable generalizability"},
		{"transformer", "transformer transformers"},
		{"meaning", "meaning meanings"},
		{"operator", "operator operators"},
		{"recogn", "recognition recognitions recognize recognizes recognized recognizing recognise recognised"},
		{"organiz", "organization organizations organisation organisations"},
		{"universiti", "university universities"},
		{"computer", "computer computers"},
		{"explain", "explanation explanations explanatory explainable explainability"},
		{"summar", "summary summaries summarization summarisation summarize summarizes summarized summarizing"},
		{"visualiz", "visualization visualizations visualize visualizes visualized visualizing visualisation"},
		{"residue", "residue residues"},
		{"conversely", "conversely"},
		{"encoder", "encoder encoders"},
		{"decoder", "decoder decoders"},
		{"fast", "faster fastest"},
		{"small", "smaller smallest"},
		{"larg", "larger largest"},
		{"deep", "deeper deepest"},
		{"long", "longer longest"},
		{"cheap", "cheaper cheapest"},
		{"big", "bigger biggest"},
		{"smart", "smarter smartest"},
		{"quick", "quicker quickest"},
		{"slow", "slower slowest"},
		{"easi", "easier easiest"},
		{"hard", "harder hardest"},
		{"tini", "tinier tiniest"},
		{"wide", "wider widest"},
		{"strong", "stronger strongest"},
		{"weak", "weaker weakest"},
		{"simpl", "simpler simplest"},
		// Snowball makes one stem of these; in papers they name different
		// things ("continual learning", "continuous relaxation").
		{"continual", "continual continually"},
		{"positive", "positive positives positively"},
		{"activation", "activation activations activate activates activated activating"},
		{"experienc", "experience experiences experienced"},
		{"relation", "relation relations relational relationship relationships"},
		{"objective", "objective objectives"},
		{"animat", "animation animations animated"},
		{"attribution", "attribution attributions attributing"},
		{"completely", "completely"},
		{"anime", "anime"},
		// Words that share a stem with an everyday word of another
		// meaning the lexicon has ("affordable", "conversation").
		{"affordanc", "affordance affordances"},
		{"conversion", "conversion conversions"},
		{"traditional", "traditional traditionally"},
		{"polite", "polite politeness impolite"},
		{"internation", "international internationally"},
		{"cropping", "cropping cropped"},
		// A specialist is the field's stem ("-ologist" is a rule).
		{"physic", "physicist physicists"},
		{"chemistri", "chemist chemists"},
		{"mathemat", "mathematician mathematicians"},
		{"statist", "statistician statisticians"},
		{"robot", "roboticist roboticists"},
		{"econom", "economist economists"},
		{"music", "musician musicians"},
		{"astronomi", "astronomer astronomers"},
		{"genet", "geneticist geneticists"},
		{"photograph", "photographer photographers"},
		{"personaliz", "personalization personalizations personalize personalizes personalized personalizing personalisation personalise personalised"},
		{"medicat", "medication medications medicate medicated"},
	} {
		for _, w := range strings.Fields(g.words) {
			m[w] = g.stem
		}
	}
	return m
}()

// stopWords are function words that carry no topic. They are skipped when
// indexing and when compiling interests.
var stopWords = toSet(`a about above after again against all also am an and any are aren as at be
because been before being below between both but by can cannot could did do does doing don down
during each either etc even ever every few for from further had has have having he her here hers
herself him himself his how however i if in into is isn it its itself just let ll me more most much
must my myself neither no nor not now of off on once only or other others otherwise our ours
ourselves out over own per rather re same shall she should since so some such than that the their
theirs them themselves then there therefore these they this those though through thus to too toward
towards under until up upon us ve very was we were what whatever when where whereas whether which
while who whom whose will with within without would yet you your yours yourself yourselves via
vs versus among amongst along across beyond eg ie et al`)

// queryNoise are words people put into interest descriptions that say how
// they want something rather than what; they are dropped from interests
// (but still indexed in papers).
var queryNoise = toSet(`anything everything something stuff thing things area areas paper papers
article articles research researches interested interest interests want wanted wanting like likes
liking love latest recent recently new related relating regarding concerning especially
particularly mainly mostly make makes making made get gets getting got really please kind kinds lot
lots know knows knowing knew think thinks thinking help helps helping helped handle handles
handling handled deal deals dealing dealt tell tells telling told see sees seeing saw seen look
looks looking looked find finds finding found do does doing done did go goes going gone went try
tries trying tried need needs needing needed happen happens happening happened able allow allows
allowing allowed let lets letting put puts putting keep keeps keeping kept give gives giving gave
given take takes taking took taken come comes coming came way ways possible actually exactly good
great nice cool interesting important use uses using used ideas idea whatever somehow`)

// noiseStems are the stems of queryNoise, left out of "more like this"
// term vectors.
var noiseStems = func() map[string]bool {
	m := make(map[string]bool, len(queryNoise))
	for w := range queryNoise {
		m[stem(w)] = true
	}
	return m
}()

// plainWords are everyday words that paraphrased interests are made of
// ("teaching computers to read"). Like genericWords they weigh less, so
// a word the papers never use does not sink an interest whose research
// concept the lexicon recognized.
var plainWords = `teach teaches teaching taught read reads reading write writes writing wrote human humans
people person persons someone everyone watch watching hear hearing listen listening talk talking
speak speaking say saying ask asking answer answering question questions computer computers machine
machines world real everyday daily life time times place places part parts piece pieces whole form
shape size amount big small large huge tiny long short old young early late fast slow quick quickly
easy easily hard difficult simple complex complicated better worse best worst bad cheap cheaply
expensive powerful smart clever intelligent work works working build builds building create creates
creating design designs designing solve solves solving improve improves improving change changes
changing move moves moving turn turns turning bring brings run runs running play plays playing start
stop begin follow follows choose chooses choosing pick picks decide decides compare compares measure
measures count counts fix fixes fixing check checks checking many much more less most least several
various another same each every still even quite matter matters problem problems issue issues reason
reasons day days year years thing kinds sort together without within across inside outside toward
help automatically automatic automated ai artificial intelligence one ones`

// genericWords are stems so common in research abstracts that on their own
// they say little about a topic, whatever their frequency in the current
// corpus. Their weight is scaled down by genericWeight.
var genericWords = stemSet(plainWords + ` model models modeling learning learn learned network networks neural deep
method methods approach approaches propose proposed result results show shows task tasks data
performance perform based use using used framework frameworks system systems technique techniques
problem problems novel state art experiment experiments evaluate evaluation demonstrate achieve
achieves present paper study studies analysis application applications existing various different
improve improved improvement improvements effective large-scale work new also well set sets number
high low significant significantly however first propose introduce introduces introduced provide
provides recent tool tools train trains training trained predict predicts predicted prediction
predictions`)

const genericWeight = 0.25

func toSet(s string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

func stemSet(s string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(s) {
		for _, ws := range words(w) {
			m[stem(ws.lower)] = true
		}
	}
	return m
}

// stems turns s into the stems of its content words (stop words and, when
// query is true, query noise dropped).
//
// In query mode, keyOnly words are kept (unstemmed) so that lexicon keys
// such as "learning without labels" can be told from "labels"; they never
// match paper text.
func stems(s string, query bool) []string {
	var out []string
	forEachWord(s, func(lower []byte, _, _ int) {
		w := string(lower)
		if query && keyOnly[w] {
			out = append(out, w)
			return
		}
		if len(w) < 2 || stopWords[w] || (query && queryNoise[w]) {
			return
		}
		out = append(out, stem(w))
	})
	return out
}

// queryStems is stems(s, true) that also reports, per stem, whether it
// and the next were written as one hyphenated term: only hyphens (and
// dropped stop words such as "to" in "text-to-speech") between them, no
// space. Bit i of joined is set when stems i and i+1 are joined (stems
// past the 64th are never joined).
func queryStems(s string) (st []string, joined uint64) {
	st, joined, _ = queryStemsCase(s)
	return st, joined
}

// wordAcronyms are acronyms of the lexicon that are everyday words too
// ("CLIP" and a video clip, "SLAM" and slamming a door, "LIME" and the
// fruit, "RoPE" and a rope): written in lower case, they are the word.
var wordAcronyms = toSet(`clip clips slam slams slamming slammed lime limes cam cams rope ropes lean sac`)

// queryStemsCase is queryStems and, as bit i of plain, that stem i is an
// acronym of wordAcronyms written in lower case: an everyday word.
func queryStemsCase(s string) (st []string, joined, plain uint64) {
	prevEnd := -1
	sc := wordScanner{s: s}
	for {
		lower, start, end, ok := sc.next()
		if !ok {
			return st, joined, plain
		}
		keep := keyOnly[string(lower)]
		if !keep && (len(lower) < 2 || stopWords[string(lower)] || queryNoise[string(lower)]) {
			if prevEnd >= 0 && hyphenOnly(s[prevEnd:start]) {
				prevEnd = end
			} else {
				prevEnd = -1
			}
			continue
		}
		if n := len(st); n > 0 && n <= 64 && prevEnd >= 0 && hyphenOnly(s[prevEnd:start]) {
			joined |= 1 << (n - 1)
		}
		w := string(lower)
		if !keep {
			w = stem(w)
		}
		if n := len(st); n < 64 && wordAcronyms[string(lower)] && s[start:end] == string(lower) {
			plain |= 1 << n
		}
		st = append(st, w)
		prevEnd = end
	}
}

// hyphenOnly reports whether s, the text between two words, is one or
// more hyphens (or dashes) and nothing else.
func hyphenOnly(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r != '-' && r != '‐' && r != '‑' {
			return false
		}
	}
	return true
}

// keyOnly are stop words that change what an interest means ("without
// labels", "decoder-only"): kept for lexicon look-ups, dropped for
// matching papers.
var keyOnly = toSet(`without no not only few why`)

// dropKeyOnly returns st without keyOnly words, and whether any were
// dropped.
func dropKeyOnly(st []string) ([]string, bool) {
	out := st[:0:0]
	for _, w := range st {
		if !keyOnly[w] {
			out = append(out, w)
		}
	}
	return out, len(out) != len(st)
}
