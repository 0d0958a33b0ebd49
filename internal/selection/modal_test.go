package selection

import (
	"slices"
	"testing"

	"github.com/papermail/papermail/internal/model"
)

// TestModalPairs checks which plain-words interests turn one medium into
// another.
func TestModalPairs(t *testing.T) {
	tests := []struct {
		text string
		want [][2]string
	}{
		{"make my holiday photos into little movies", [][2]string{{"image", "video"}}},
		{"turning a story into a song", [][2]string{{"text", "audio"}}},
		{"typed paragraphs into a spoken voice", [][2]string{{"text", "speech"}}},
		{"photos of my cat", nil},
		{"breaking a problem into steps", nil},
		{"videos into", nil},
		{"sketches into sketches", nil},
		{"making pictures from a written description", [][2]string{{"text", "image"}}},
		{"3D models from a single photo", [][2]string{{"image", "3d"}}},
		{"learning from videos", nil},
		{"paints moving pictures from a few sentences", [][2]string{{"text", "video"}}},
		{"depth from a single image", nil},
	}
	for _, tt := range tests {
		if got := modalPairs(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("modalPairs(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

// TestModalInterest checks that such an interest finds the papers on the
// task by the field's name for it.
func TestModalInterest(t *testing.T) {
	papers := []model.Paper{
		{ID: "t2v", Title: "Scaling Text-to-Video Diffusion", Abstract: "We train a text-to-video model on captioned clips."},
		{ID: "i2v", Title: "Image-to-Video Generation With Motion Priors", Abstract: "Animating still images into short videos."},
		{ID: "cap", Title: "Dense Video Captioning", Abstract: "Describing events in videos with sentences."},
		{ID: "seg", Title: "Semantic Segmentation of Street Scenes", Abstract: "Pixel labels for road images."},
	}
	ix := NewIndex(append(papers, loadFixture(t)...), Options{Now: fixtureNow})
	got := ids(selectFor(ix, Profile{Interests: []string{"turning a few typed sentences into a film"}}, 5))
	if len(got) == 0 || got[0] != "t2v" {
		t.Errorf("picked %v, want the text-to-video paper first", got)
	}
	if slices.Contains(got, "seg") {
		t.Errorf("picked %v: the segmentation paper is about no medium turned into another", got)
	}
}
