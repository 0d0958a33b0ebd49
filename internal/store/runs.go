package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/subscription/lifecycle"
)

// BeginRun creates the run for date or, when one exists (an interrupted or
// earlier run that day), resumes it: its ledger is kept and Attempts grows.
// A finished run whose ledger was pruned (PruneLedgers) keeps the sent and
// bounced it counted, who are not due for the date again; those it
// counted failed or skipped are considered again and counted anew.
func (s *Store) BeginRun(date string, now time.Time) (model.Run, error) {
	var run model.Run
	err := s.update(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRuns)
		if v := rb.Get([]byte(date)); v != nil {
			if err := json.Unmarshal(v, &run); err != nil {
				return fmt.Errorf("run %s unreadable: %w", date, err)
			}
			if tx.Bucket(bucketLedger).Bucket([]byte(date)) == nil && !run.Finished.IsZero() {
				run.Failed, run.Skipped = 0, 0
				run.Due = run.Sent + run.Bounced
			}
		} else {
			run = model.Run{Date: date}
		}
		run.Started = now
		run.Finished = time.Time{}
		run.Stopped, run.StoppedAt = "", time.Time{}
		run.DurationMS = 0
		run.Attempts++
		if _, err := tx.Bucket(bucketLedger).CreateBucketIfNotExists([]byte(date)); err != nil {
			return err
		}
		return putRun(rb, &run)
	})
	return run, err
}

// FinishRun marks the run for date finished now.
func (s *Store) FinishRun(date string, now time.Time) (model.Run, error) {
	var run model.Run
	err := s.update(func(tx *bolt.Tx) error {
		var err error
		run, err = getRun(tx, date)
		if err != nil {
			return err
		}
		run.Finished = now
		run.DurationMS = now.Sub(run.Started).Milliseconds()
		return putRun(tx.Bucket(bucketRuns), &run)
	})
	return run, err
}

// StopRun records that the run for date stopped early on an operator-side
// failure (reason holds the server's words). The run stays unfinished so it
// is resumed; its ledger keeps what was done. Called after FinishRun it
// records why a finished run delivered nothing (the SMTP server could not
// be reached) and the run stays finished.
func (s *Store) StopRun(date, reason string, now time.Time) (model.Run, error) {
	var run model.Run
	err := s.update(func(tx *bolt.Tx) error {
		var err error
		if run, err = getRun(tx, date); err != nil {
			return err
		}
		run.Stopped, run.StoppedAt = reason, now.UTC()
		return putRun(tx.Bucket(bucketRuns), &run)
	})
	return run, err
}

// Run returns the run for one date.
func (s *Store) Run(date string) (model.Run, error) {
	var run model.Run
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		run, err = getRun(tx, date)
		return err
	})
	return run, err
}

// Runs returns the most recent runs, newest first.
func (s *Store) Runs(limit int) ([]model.Run, error) {
	var out []model.Run
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRuns).Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			var r model.Run
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("run %s unreadable: %w", k, err)
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

func getRun(tx *bolt.Tx, date string) (model.Run, error) {
	var run model.Run
	v := tx.Bucket(bucketRuns).Get([]byte(date))
	if v == nil {
		return run, fmt.Errorf("run %s: %w", date, ErrNotFound)
	}
	err := json.Unmarshal(v, &run)
	return run, err
}

func putRun(rb *bolt.Bucket, run *model.Run) error {
	buf, err := json.Marshal(run)
	if err != nil {
		return err
	}
	return rb.Put([]byte(run.Date), buf)
}

// AddDue writes a pending ledger line for each subscriber id that has no
// line yet in the run for date (one transaction), and returns how many
// were added. Lines that already exist (sent, failed...) are kept.
func (s *Store) AddDue(date string, ids []uint64) (int, error) {
	added := 0
	err := s.update(func(tx *bolt.Tx) error {
		added = 0
		lb := tx.Bucket(bucketLedger).Bucket([]byte(date))
		if lb == nil {
			return fmt.Errorf("run %s has not begun", date)
		}
		// Ids come in ascending order for a full list (a batch of the
		// subscribers bucket), nearly so for a tick (the due index's
		// order): split at 90%, as record does.
		lb.FillPercent = 0.9
		buf, _ := ledgerLine(model.Delivery{State: model.DeliveryPending})
		for _, id := range ids {
			k := u64(id)
			if lb.Get(k) != nil {
				continue
			}
			if err := lb.Put(k, buf); err != nil {
				return err
			}
			added++
		}
		if added == 0 {
			return nil
		}
		run, err := getRun(tx, date)
		if err != nil {
			return err
		}
		run.Due += added
		return putRun(tx.Bucket(bucketRuns), &run)
	})
	return added, err
}

// Ledger returns the delivery lines of the run for date, keyed by subscriber id.
func (s *Store) Ledger(date string) (map[uint64]model.Delivery, error) {
	out := make(map[uint64]model.Delivery)
	err := s.view(func(tx *bolt.Tx) error {
		lb := tx.Bucket(bucketLedger).Bucket([]byte(date))
		if lb == nil {
			return fmt.Errorf("run %s: %w", date, ErrNotFound)
		}
		return lb.ForEach(func(k, v []byte) error {
			var d model.Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			d.SubscriberID = btoi(k)
			out[btoi(k)] = d
			return nil
		})
	})
	return out, err
}

// Outcome is what happened to one subscriber's digest, for Record.
type Outcome struct {
	Date     string // run date (the subscriber's local digest date)
	Delivery model.Delivery
	// SoftLimit is bounce.soft_limit: distinct days of temporary failure
	// after which the address counts as bounced.
	SoftLimit int
	// NotBounce marks a failure that says nothing about the mailbox (our
	// relay was down or refused for its own reasons): it is not counted as
	// a soft bounce. Only temporary mailbox failures (4.2.x, mailbox full)
	// count.
	NotBounce bool
}

// ledgerIDField is how the JSON of a model.Delivery with no subscriber
// id begins.
var ledgerIDField = []byte(`{"subscriber_id":0,`)

// ledgerLine encodes a ledger line: d as JSON without the subscriber id,
// which is the line's key (every reader of the ledger takes it from
// there; lines written with it read the same). That is some 20 of the
// 60 bytes of a pending line and of the 330 of a sent one: fewer pages
// for a run to write and read back.
func ledgerLine(d model.Delivery) ([]byte, error) {
	d.SubscriberID = 0
	buf, err := json.Marshal(&d)
	if err != nil {
		return nil, err
	}
	if rest, ok := bytes.CutPrefix(buf, ledgerIDField); ok {
		buf = append(buf[:1], rest...)
	}
	return buf, nil
}

func (s *Store) record(tx *bolt.Tx, o Outcome) error {
	d := o.Delivery
	softBounced, err := s.recordDelivery(tx, o)
	if err != nil {
		return err
	}
	if softBounced {
		// The failure that reached bounce.soft_limit is the day's bounce:
		// the run counts it as one, not as one more failure.
		d.State = model.DeliveryBounced
	}
	lb, err := tx.Bucket(bucketLedger).CreateBucketIfNotExists([]byte(o.Date))
	if err != nil {
		return err
	}
	// A run records its subscribers in due order, ids nearly ascending,
	// into a ledger of its own: pages split at 90% instead of bbolt's
	// half make the day's ledger smaller (bench store, 10k subscribers:
	// 1,535 -> 1,224 pages, fill 0.54 -> 0.67; the workers' records
	// arrive a little out of order).
	lb.FillPercent = 0.9
	key := u64(d.SubscriberID)
	var prev model.Delivery
	if v := lb.Get(key); v != nil {
		if err := json.Unmarshal(v, &prev); err != nil {
			return err
		}
	}
	buf, err := ledgerLine(d)
	if err != nil {
		return err
	}
	if err := lb.Put(key, buf); err != nil {
		return err
	}
	run, err := getRun(tx, o.Date)
	if err != nil {
		return err
	}
	if prev.State == "" {
		run.Due++
	}
	adjust(&run, prev.State, -1)
	adjust(&run, d.State, +1)
	return putRun(tx.Bucket(bucketRuns), &run)
}

// recordDelivery updates what delivery did for the outcome's subscriber:
// only its small delivery record and its due key, unless the address
// bounced (a change of state). softBounced reports a failure that reached
// the soft-bounce limit and bounced the address.
func (s *Store) recordDelivery(tx *bolt.Tx, o Outcome) (softBounced bool, err error) {
	d := o.Delivery
	id := d.SubscriberID
	profile := tx.Bucket(bucketSubscribers).Get(u64(id))
	if profile == nil {
		return false, fmt.Errorf("subscriber %d: %w", id, ErrNotFound)
	}
	old, err := getDelivery(tx, id)
	if err != nil {
		return false, err
	}
	nd := old
	var bounce *model.Bounce
	switch d.State {
	case model.DeliverySent:
		if err := putSent(tx, id, o.Date, d.Papers); err != nil {
			return false, err
		}
		if o.Date > nd.LastDigest {
			nd.LastDigest = o.Date
		}
		nd.SoftBounces, nd.NotBefore = nil, 0
	case model.DeliverySkipped:
		if o.Date > nd.Settled {
			nd.Settled = o.Date
		}
		nd.NotBefore = 0
	case model.DeliveryBounced:
		bounce = &model.Bounce{At: d.At, Reason: d.Reason, Code: d.Code, Enhanced: d.Enhanced, Source: model.BounceSMTP}
	case model.DeliveryFailed:
		if o.NotBounce {
			return false, nil
		}
		// A day of temporary mailbox failure (rare): the rule needs the
		// subscriber's state, and may bounce them.
		sub, err := getSubscriber(tx, id)
		if err != nil {
			return false, err
		}
		changed, bounced := lifecycle.SoftBounce(&sub, o.Date, o.SoftLimit, model.Bounce{At: d.At, Code: d.Code, Enhanced: d.Enhanced, Reason: d.Reason})
		if !changed {
			return false, nil
		}
		return bounced, s.putSubscriber(tx, &sub)
	default:
		return false, nil
	}
	if bounce != nil {
		sub, err := getSubscriber(tx, id)
		if err != nil {
			return false, err
		}
		nd.applyTo(&sub)
		if lifecycle.Bounce(&sub, *bounce) {
			return false, s.putSubscriber(tx, &sub)
		}
	}
	// What the schedule depends on, without decoding the whole profile.
	var view model.Subscriber
	var sf scheduleFields
	if err := json.Unmarshal(profile, &sf); err != nil {
		return false, fmt.Errorf("subscriber %d unreadable: %w", id, err)
	}
	view.State, view.Created, view.Timezone, view.Hour = sf.State, sf.Created, sf.Timezone, sf.Hour
	view.Frequency, view.Weekday, view.PausedUntil = sf.Frequency, sf.Weekday, sf.PausedUntil
	s.schedule(&view, &nd)
	return false, s.putDelivery(tx, id, old, nd)
}

// scheduleFields are the profile fields the due index depends on.
type scheduleFields struct {
	State       model.State `json:"state"`
	Created     time.Time   `json:"created"`
	Timezone    string      `json:"timezone"`
	Hour        int         `json:"hour"`
	Frequency   string      `json:"frequency"`
	Weekday     int         `json:"weekday"`
	PausedUntil time.Time   `json:"paused_until"`
}

func adjust(run *model.Run, state string, by int) {
	switch state {
	case model.DeliverySent:
		run.Sent += by
	case model.DeliveryFailed:
		run.Failed += by
	case model.DeliverySkipped:
		run.Skipped += by
	case model.DeliveryBounced:
		run.Bounced += by
	}
}

// LedgerStates returns the ledger state of each given subscriber in the
// run for date; subscribers without a line are absent.
func (s *Store) LedgerStates(date string, ids []uint64) (map[uint64]string, error) {
	out := make(map[uint64]string)
	err := s.view(func(tx *bolt.Tx) error {
		lb := tx.Bucket(bucketLedger).Bucket([]byte(date))
		if lb == nil {
			return nil
		}
		for _, id := range ids {
			if v := lb.Get(u64(id)); v != nil {
				var d model.Delivery
				if err := json.Unmarshal(v, &d); err != nil {
					return err
				}
				out[id] = d.State
			}
		}
		return nil
	})
	return out, err
}

// Record writes outcomes durably in one transaction (skips found while
// selecting, say; a run's deliveries go to the Journal). For a sent
// digest the ledger line, the sent-papers history and the subscriber's
// delivery state are written together.
func (s *Store) Record(os ...Outcome) error {
	if len(os) == 0 {
		return nil
	}
	return s.update(func(tx *bolt.Tx) error {
		for _, o := range os {
			if err := s.record(tx, o); err != nil {
				return err
			}
		}
		return nil
	})
}

// Delivery returns one subscriber's ledger line of one run date.
func (s *Store) Delivery(date string, id uint64) (model.Delivery, error) {
	var d model.Delivery
	if err := s.foldPending(); err != nil {
		return d, err
	}
	err := s.view(func(tx *bolt.Tx) error {
		lb := tx.Bucket(bucketLedger).Bucket([]byte(date))
		if lb == nil {
			return fmt.Errorf("run %s: %w", date, ErrNotFound)
		}
		v := lb.Get(u64(id))
		if v == nil {
			return fmt.Errorf("run %s, subscriber %d: %w", date, id, ErrNotFound)
		}
		if err := json.Unmarshal(v, &d); err != nil {
			return err
		}
		d.SubscriberID = id
		return nil
	})
	return d, err
}
