package render

import "strings"

// Segment is one piece of a highlighted text: Match marks the words that
// matched the reader's interest.
type Segment struct {
	Text  string
	Match bool
}

// Paper is what every reader of a paper is shown alike. Every string may
// come from untrusted feeds; the templates escape or clean it. The mail
// templates run by {{shared}} see only a Paper, and a Batch renders them
// once per paper; a field added here may be used there (and everywhere
// else a paper is shown). Fields stay comparable (join lists into one
// string, as Authors): a Batch compares Papers to check that an ID still
// names the same paper.
type Paper struct {
	ID    string
	Title string
	// Link is the paper's public page; empty leaves the title unlinked.
	Link string
	// Abstract is shortened for mail, about 600 characters at a word
	// boundary ending in "…" (see Shorten); the templates cut it further
	// only when a digest holds many papers.
	Abstract string
	// Authors is the formatted list, such as "A, B, C et al." (see Authors).
	Authors string
	// Signal says why the paper is notable, honestly: "142 upvotes ·
	// 12 comments" or "new today"; empty shows nothing.
	Signal string
	// CodeURL and ProjectURL link the code repository and the project
	// page; empty hides them.
	CodeURL, ProjectURL string
	// ArxivID is the arXiv identifier ("2401.01234"); AbsURL its abstract
	// page and PDFURL the full text as PDF. Empty hides each.
	ArxivID, AbsURL, PDFURL string
	// Affiliations are the authors' institutions, joined ("MIT, ETH
	// Zurich"); Category is the primary subject category ("cs.CL"); Venue
	// the journal or preprint server; Published the paper's date
	// ("2 Jan 2024"). Empty hides each.
	Affiliations, Category, Venue, Published string
	// TLDR is a one-line summary from the source (Hugging Face's
	// ai_summary), shown above the abstract; empty hides it.
	TLDR string
	// CiteURL downloads the paper's BibTeX; empty hides it.
	CiteURL string
}

// Match is a Paper as the readers with one interest see it: the words
// that matched marked, and why it is in their digest. The mail templates
// run by {{matched}} see only a Match, and a Batch renders them once per
// paper and interest.
type Match struct {
	Paper
	// TitleParts and AbstractParts are Title and Abstract cut into
	// pieces, the words that matched the interest marked; when empty the
	// plain strings are shown.
	TitleParts    []Segment
	AbstractParts []Segment
	// Interest is the reader's interest the paper matched, and Matched the
	// words of the paper that matched it.
	Interest string
	Matched  []string
	// Fallback marks a trending paper shown although it matched nothing.
	Fallback bool
	// Like is the title of the reader's library paper this one resembles,
	// when that is why it is here.
	Like string
	// Of is the number of papers in the digest, which share a size budget
	// (set by the engine).
	Of int
}

// Item is one paper of one reader's digest without its number: the paper
// as matched and what is this reader's own. The mail templates run by
// {{item}} see only an Item; a Batch renders them once per paper, interest
// and shape of the reader's links (see batch.go).
type Item struct {
	Match
	// MoreURL and LessURL are signed "more/less like this" feedback links;
	// empty hides them.
	MoreURL, LessURL string
	// Followed is the followed author (as the reader wrote the name) the
	// paper is by; empty hides it.
	Followed string

	// batch holds the paper's shared fragments while a Batch renders it;
	// psum, msum and isum sum its Paper, Match and Item (its links
	// masked), vals are its links' holes (see Batch.prepare).
	batch            *Batch
	psum, msum, isum sum
	vals             []string
	// ksum sums the Item without its Match (its links masked): an item
	// template that is matchFree is cut once per ksum, its matched calls
	// holes; holes records those calls in a render that cuts them.
	ksum  sum
	holes *matchHoles
	// inItem marks the Item an item template runs on: its matched
	// fragments are kept in own for the renders of that one call (the
	// item's cut holds them afterwards), not in the batch.
	inItem bool
	own    map[key]string
	// marks, in a skeleton run, stand for this paper's item calls.
	marks *marks
}

// PaperView is one paper of one reader's digest: its Item and its number.
type PaperView struct {
	Item
	// N is the paper's number in the digest, from 1.
	N int
}

// DigestView is everything a digest mail shows.
type DigestView struct {
	// Email is the recipient's address, named in the footer.
	Email     string
	Interests []string
	// DateLabel is the digest's local date, "Friday, 27 November 2026";
	// subjects shorten labels of that form to "Fri 27 Nov".
	DateLabel string
	Papers    []PaperView
	// Fallback marks a digest made only of trending papers because nothing
	// matched the reader's interests.
	Fallback bool
	// PreferencesURL and UnsubscribeURL are signed links for this reader;
	// FeedURL (optional) is their personal feed; BaseURL the site.
	PreferencesURL, UnsubscribeURL, FeedURL, BaseURL string
	// ListName names the list in the mail ("papermail" when empty).
	ListName string
	// Preheader is the preview line mail clients show after the subject;
	// empty uses a summary of the digest.
	Preheader string
	// BrowserURL shows this digest as a web page (signed); empty hides it.
	BrowserURL string

	// batch renders the head and foot while a Batch renders the digest,
	// hsum and fsum sum them (their links masked), hvals and fvals are
	// their holes; marks, in a skeleton run, stand for their calls.
	batch        *Batch
	hsum, fsum   sum
	hvals, fvals []string
	marks        *marks
}

// Head is what the top of a digest shows: the list, the date, the
// reader's interests, how many papers follow. The mail templates run by
// {{head}} see only a Head.
type Head struct {
	Interests []string
	DateLabel string
	// Count is the number of papers in the digest.
	Count                                    int
	Fallback                                 bool
	ListName, Preheader, BrowserURL, BaseURL string
}

// Foot is what the end of a digest shows: whom it was sent to and the
// reader's subscription links. The mail templates run by {{foot}} see
// only a Foot.
type Foot struct {
	Email, DateLabel, ListName                       string
	PreferencesURL, UnsubscribeURL, FeedURL, BaseURL string
}

// own are the strings of a Head or Foot that are the reader's own, and
// their kinds.
func (h *Head) own() ([]*string, []holeKind) { return []*string{&h.BrowserURL}, []holeKind{holeToken} }

func (f *Foot) own() ([]*string, []holeKind) {
	return []*string{&f.Email, &f.PreferencesURL, &f.UnsubscribeURL, &f.FeedURL}, []holeKind{holeEmail, holeToken, holeToken, holeToken}
}

// head and foot are the Head and Foot of v.
func (v *DigestView) head() Head {
	return Head{Interests: v.Interests, DateLabel: v.DateLabel, Count: len(v.Papers), Fallback: v.Fallback,
		ListName: v.ListName, Preheader: v.Preheader, BrowserURL: v.BrowserURL, BaseURL: v.BaseURL}
}

func (v *DigestView) foot() Foot {
	return Foot{Email: v.Email, DateLabel: v.DateLabel, ListName: v.ListName, PreferencesURL: v.PreferencesURL,
		UnsubscribeURL: v.UnsubscribeURL, FeedURL: v.FeedURL, BaseURL: v.BaseURL}
}

// ConfirmView is everything a confirmation (double opt-in) mail shows.
type ConfirmView struct {
	// Email is the address that asked to subscribe.
	Email     string
	Interests []string
	// ConfirmURL is the signed link that confirms the subscription.
	ConfirmURL string
	// ExpiresLabel is when ConfirmURL stops working, as a date such as
	// "Friday, 4 December 2026"; empty says "in 7 days".
	ExpiresLabel string
	BaseURL      string
	// ListName names the list ("papermail" when empty).
	ListName string
	// Preheader is the preview line; empty uses a default.
	Preheader string
}

// sampleDigests are the views every digest template is tried with at
// start-up, so a template naming a field that does not exist fails New
// instead of a digest run: one view with every optional field set and one
// trending fallback with none.
func sampleDigests() []*DigestView {
	full := &DigestView{
		Email: "reader@example.org", Interests: []string{"diffusion models", "speech"},
		DateLabel: "Friday, 27 November 2026", ListName: "papermail", Preheader: "Two papers",
		PreferencesURL: "https://example.org/p", UnsubscribeURL: "https://example.org/u",
		FeedURL: "https://example.org/f", BaseURL: "https://example.org/",
		Papers: []PaperView{{Item: Item{
			Match: Match{
				Paper: Paper{
					ID: "2611.00001", Title: "Fast diffusion", Link: "https://arxiv.org/abs/2611.00001",
					Abstract: "We study diffusion.", Authors: "A. Author et al.", Signal: "3 upvotes",
					CodeURL: "https://example.org/c", ProjectURL: "https://example.org/w",
					ArxivID: "2611.00001", AbsURL: "https://arxiv.org/abs/2611.00001", PDFURL: "https://arxiv.org/pdf/2611.00001",
					Affiliations: "Example University", Category: "cs.LG", Venue: "bioRxiv", Published: "26 Nov 2026",
					TLDR: "Diffusion, faster.", CiteURL: "https://example.org/cite/2611.00001.bib",
				},
				TitleParts:    []Segment{{Text: "Fast "}, {Text: "diffusion", Match: true}},
				AbstractParts: []Segment{{Text: "We study "}, {Text: "diffusion", Match: true}, {Text: "."}},
				Interest:      "diffusion models", Matched: []string{"diffusion"},
			},
			MoreURL: "https://example.org/m", LessURL: "https://example.org/l", Followed: "A. Author"}, N: 1,
		}, {N: 2, Item: Item{Match: Match{Paper: Paper{ID: "t:x", Title: "Other", Abstract: "Text."}, Fallback: true}}},
			{N: 3, Item: Item{Match: Match{Paper: Paper{ID: "t:y", Title: "Like", Abstract: "Text."}, Interest: "My paper", Like: "My paper"}}}},
		BrowserURL: "https://example.org/v",
	}
	fallback := &DigestView{Fallback: true, Papers: []PaperView{{N: 1, Item: Item{Match: Match{Paper: Paper{Title: "Trending"}, Fallback: true}}}}}
	return []*DigestView{full, fallback, {}}
}

// sampleConfirms are the views every confirmation template is tried with
// at start-up (see sampleDigests).
func sampleConfirms() []*ConfirmView {
	return []*ConfirmView{{
		Email: "reader@example.org", Interests: []string{"speech"}, ConfirmURL: "https://example.org/c",
		ExpiresLabel: "Friday, 4 December 2026", BaseURL: "https://example.org/", ListName: "papermail", Preheader: "Confirm",
	}, {}}
}

// Meta is the paper's line of facts, joined by " · ": its arXiv id and
// Facts.
func (p Paper) Meta() string {
	if p.ArxivID == "" {
		return p.Facts()
	}
	if f := p.Facts(); f != "" {
		return "arXiv:" + p.ArxivID + " · " + f
	}
	return "arXiv:" + p.ArxivID
}

// Facts joins with " · " the paper's primary category, venue, date and
// trending signal, each when known.
func (p Paper) Facts() string {
	var parts []string
	for _, s := range []string{p.Category, p.Venue, p.Published, p.Signal} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " · ")
}

// LinksView is everything the mail with a subscriber's own links shows:
// the welcome after confirming, or the answer to "send me my link".
type LinksView struct {
	Email     string
	Interests []string
	// Welcome marks the mail sent right after confirming.
	Welcome bool
	// PreferencesURL, UnsubscribeURL and FeedURL are the reader's signed
	// links; BaseURL the site.
	PreferencesURL, UnsubscribeURL, FeedURL, BaseURL string
	// DeliveryLabel says when digests come ("every day at 07:00 (UTC)").
	DeliveryLabel string
	ListName      string
	Preheader     string
}

// sampleLinks are the views every links template is tried with at start-up.
func sampleLinks() []*LinksView {
	return []*LinksView{{
		Email: "reader@example.org", Interests: []string{"speech"}, Welcome: true,
		PreferencesURL: "https://example.org/p", UnsubscribeURL: "https://example.org/u", FeedURL: "https://example.org/f",
		BaseURL: "https://example.org/", DeliveryLabel: "every day at 07:00", ListName: "papermail", Preheader: "Welcome",
	}, {}}
}
