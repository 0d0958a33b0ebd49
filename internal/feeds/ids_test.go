package feeds

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"testing"
)

func TestNormalizeArxivID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2401.01234", "2401.01234"},
		{"2401.01234v2", "2401.01234"},
		{" 2401.01234V12 ", "2401.01234"},
		{"http://arxiv.org/abs/2401.01234v2", "2401.01234"},
		{"https://arxiv.org/pdf/2401.01234v3.pdf", "2401.01234"},
		{"https://export.arxiv.org/abs/2401.01234?context=cs", "2401.01234"},
		{"https://www.arxiv.org/abs/2401.01234/", "2401.01234"},
		{"oai:arXiv.org:2401.01234v2", "2401.01234"},
		{"arXiv:2401.01234", "2401.01234"},
		{"ARXIV:2401.01234v1", "2401.01234"},
		{"0704.0001", "0704.0001"},
		{"hep-th/9901001v1", "hep-th/9901001"},
		{"http://arxiv.org/abs/hep-th/9901001v1", "hep-th/9901001"},
		{"math.GT/0309136", "math/0309136"},
		{"oai:arXiv.org:cond-mat/0102536", "cond-mat/0102536"},
		{"", ""},
		{"t:0123456789abcdef", ""},
		{"2401.123", ""},
		{"2401.123456", ""},
		{"24a1.01234", ""},
		{"hep-th/990100", ""},
		{"https://huggingface.co/papers/2401.01234", ""},
		{"https://arxiv.org/list/cs.CL/new", ""},
		{"v2", ""},
		{"/9901001", ""},
	}
	for _, tt := range tests {
		if got := NormalizeArxivID(tt.in); got != tt.want {
			t.Errorf("NormalizeArxivID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTitleID(t *testing.T) {
	id := TitleID("Deep Learning for Cats")
	if !regexp.MustCompile(`^t:[0-9a-f]{16}$`).MatchString(id) || !isTitleID(id) {
		t.Fatalf("TitleID = %q, want t: and 16 hex digits", id)
	}
	// sha256("deep learning for cats") starts with these 8 bytes.
	if id != "t:"+sha256Hex16("deep learning for cats") {
		t.Errorf("TitleID = %q, not the hash of the normalized title", id)
	}
	same := []string{"deep learning for cats", "  Deep   Learning\nfor CATS!", "Deep-Learning: for {\\em Cats}"}
	for _, s := range same {
		if got := TitleID(s); got != id {
			t.Errorf("TitleID(%q) = %q, want %q", s, got, id)
		}
	}
	for _, s := range []string{"Deep Learning for Dogs", "DeepLearning for Cats", "Deep Learning for Cats 2"} {
		if got := TitleID(s); got == id {
			t.Errorf("TitleID(%q) collides with %q", s, id)
		}
	}
	if TitleID("Müller's Théorème") != TitleID("müller s THÉORÈME") {
		t.Error("TitleID does not fold case of non-ASCII letters")
	}
}

func sha256Hex16(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}
