package feeds

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NormalizeArxivID extracts the arXiv identifier from s and returns it
// without version suffix, or "" when s holds none. It accepts bare ids
// ("2401.01234v2", "hep-th/9901001v1"), "arXiv:" and "oai:arXiv.org:"
// prefixes and arxiv.org abs/pdf/html URLs. Old-style ids lose their
// subject class ("math.GT/0309136" -> "math/0309136") and the archive is
// lowercased, so every spelling of one paper folds to one id.
func NormalizeArxivID(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if i := strings.Index(strings.ToLower(s), "arxiv.org/"); i >= 0 {
		rest := s[i+len("arxiv.org/"):]
		if j := strings.IndexAny(rest, "?#"); j >= 0 {
			rest = rest[:j]
		}
		k := strings.IndexByte(rest, '/')
		if k < 0 {
			return ""
		}
		switch strings.ToLower(rest[:k]) {
		case "abs", "pdf", "html", "format", "ps":
		default:
			return ""
		}
		s = strings.TrimSuffix(strings.TrimSuffix(rest[k+1:], "/"), ".pdf")
	} else {
		if len(s) > 14 && strings.EqualFold(s[:14], "oai:arxiv.org:") {
			s = s[14:]
		}
		if len(s) > 6 && strings.EqualFold(s[:6], "arxiv:") {
			s = strings.TrimSpace(s[6:])
		}
	}
	return arxivCore(s)
}

// arxivCore validates a bare id with optional version and returns its
// canonical form, or "".
func arxivCore(s string) string {
	s = trimVersion(s)
	if i := strings.IndexByte(s, '/'); i >= 0 { // old style: archive[.XX]/YYMMNNN
		arch, num := s[:i], s[i+1:]
		if len(num) != 7 || !allDigits(num) {
			return ""
		}
		if j := strings.IndexByte(arch, '.'); j >= 0 {
			class := arch[j+1:]
			if len(class) != 2 || !isLetter(class[0]) || !isLetter(class[1]) {
				return ""
			}
			arch = arch[:j]
		}
		if arch == "" || arch[0] == '-' || arch[len(arch)-1] == '-' {
			return ""
		}
		for k := 0; k < len(arch); k++ {
			if !isLetter(arch[k]) && arch[k] != '-' {
				return ""
			}
		}
		return strings.ToLower(arch) + "/" + num
	}
	// new style: YYMM.NNNN (2007-2014) or YYMM.NNNNN (2015-)
	if len(s) < 9 || len(s) > 10 || s[4] != '.' || !allDigits(s[:4]) || !allDigits(s[5:]) {
		return ""
	}
	return s
}

// trimVersion drops a trailing "vN".
func trimVersion(s string) string {
	i := len(s)
	for i > 0 && isDigit(s[i-1]) {
		i--
	}
	if i < len(s) && i > 0 && (s[i-1] == 'v' || s[i-1] == 'V') {
		return s[:i-1]
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// TitleID is the id of a paper known only by its title: "t:" and the first
// 16 hex digits of the SHA-256 of the normalized title (lowercase words of
// letters and digits joined by single spaces), so "Deep  Learning!" and
// "deep learning" share an id.
func TitleID(title string) string {
	sum := sha256.Sum256([]byte(normalizeTitle(title)))
	return "t:" + hex.EncodeToString(sum[:8])
}

// isTitleID reports whether s has the shape TitleID produces.
func isTitleID(s string) bool {
	if len(s) != 18 || !strings.HasPrefix(s, "t:") {
		return false
	}
	for i := 2; i < len(s); i++ {
		if !isDigit(s[i]) && (s[i] < 'a' || s[i] > 'f') {
			return false
		}
	}
	return true
}

func normalizeTitle(title string) string {
	var b strings.Builder
	b.Grow(len(title))
	word := false
	for _, r := range CleanText(title) {
		if r < utf8.RuneSelf {
			switch {
			case r >= 'A' && r <= 'Z':
				r += 'a' - 'A'
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			default:
				word = false
				continue
			}
		} else if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) && word {
			r = unicode.ToLower(r)
		} else {
			word = false
			continue
		}
		if !word && b.Len() > 0 {
			b.WriteByte(' ')
		}
		word = true
		b.WriteRune(r)
	}
	return b.String()
}
