package selection

import "strings"

// modalityOf names the medium an everyday or research word stands for,
// by stem: what "turn X into Y" turns into what.
var modalityOf = func() map[string]string {
	m := map[string]string{}
	for mod, ws := range map[string]string{
		"text":   "text texts sentence sentences word words written description descriptions prompt prompts caption captions script scripts story stories paragraph paragraphs",
		"image":  "image images photo photos snapshot snapshots picture pictures photograph photographs drawing drawings sketch sketches painting paintings illustration illustrations selfie selfies portrait portraits",
		"video":  "video videos film films movie movies clip clips footage animation animations",
		"speech": "speech voice voices spoken",
		"audio":  "audio sound sounds music song songs melody melodies soundtrack",
		"3d":     "3d mesh meshes sculpture sculptures statue statues",
		"sign":   "gesture gestures signing",
	} {
		for _, w := range strings.Fields(ws) {
			m[stem(w)] = mod
		}
	}
	return m
}()

// modalTerms are, per pair of media, the terms papers use for turning the
// first into the second.
var modalTerms = map[[2]string][]string{
	{"text", "image"}:    {"text-to-image", "image generation", "text-to-image generation"},
	{"text", "video"}:    {"text-to-video", "video generation", "text-to-video generation"},
	{"image", "video"}:   {"image-to-video", "video generation", "image animation"},
	{"text", "speech"}:   {"text-to-speech", "speech synthesis", "tts"},
	{"text", "audio"}:    {"text-to-audio", "audio generation", "text-to-music", "music generation"},
	{"video", "audio"}:   {"video-to-audio", "audio generation", "sound generation"},
	{"image", "audio"}:   {"image-to-audio", "audio generation"},
	{"speech", "text"}:   {"speech recognition", "speech-to-text", "transcription"},
	{"audio", "text"}:    {"audio captioning", "speech recognition", "transcription"},
	{"image", "text"}:    {"image captioning", "image-to-text"},
	{"video", "text"}:    {"video captioning", "video-to-text"},
	{"text", "3d"}:       {"text-to-3d", "3d generation"},
	{"image", "3d"}:      {"image-to-3d", "3d reconstruction", "3d generation"},
	{"video", "3d"}:      {"video-to-3d", "4d generation", "dynamic 3d reconstruction"},
	{"sign", "text"}:     {"sign language translation", "sign language recognition", "gesture recognition"},
	{"speech", "speech"}: {"speech-to-speech translation", "voice conversion"},
}

// modalPairs returns, for an interest that turns one medium into another
// in plain words ("turn a written sentence into a film", "photos into 3D
// models", "pictures from a written description"), the pair of media: a
// medium named before "into" and another after it, or one named after
// "from" and another before it. It returns nothing for anything else.
func modalPairs(text string) [][2]string {
	var mods []string // medium per word, "" for other words, "into" or "from"
	prevMoving := false
	forEachWord(text, func(lower []byte, _, _ int) {
		w := string(lower)
		if w == "into" || w == "from" {
			mods = append(mods, w)
			prevMoving = false
			return
		}
		m := modalityOf[stem(w)]
		if m == "image" && prevMoving {
			// "moving pictures" are a video.
			m = "video"
		}
		prevMoving = w == "moving" || w == "motion"
		mods = append(mods, m)
	})
	at := -1
	for i, m := range mods {
		if m == "into" || m == "from" {
			at = i
			break
		}
	}
	if at < 0 {
		return nil
	}
	before, after := "", ""
	for i := at - 1; i >= 0 && before == ""; i-- {
		before = mods[i]
	}
	for i := at + 1; i < len(mods) && after == ""; i++ {
		after = mods[i]
	}
	if before == "" || after == "" || before == "into" || after == "into" || before == "from" || after == "from" {
		return nil
	}
	from, to := before, after
	if mods[at] == "from" {
		from, to = after, before
	}
	if _, ok := modalTerms[[2]string{from, to}]; !ok {
		return nil
	}
	return [][2]string{{from, to}}
}

// modalSlot is the concept of turning one medium into another: the terms
// papers use for it.
func (ix *Index) modalSlot(p [2]string) slot {
	var s slot
	for i, term := range modalTerms[p] {
		w := float32(synonymWeight)
		if i > 0 {
			w = meansWeight
		}
		if a := ix.newAlt(stems(term, false), w); !a.generic || len(a.ids) > 1 {
			s.alts = append(s.alts, a)
		}
	}
	if len(s.alts) > 0 {
		ix.senses(&s)
	}
	return s
}
