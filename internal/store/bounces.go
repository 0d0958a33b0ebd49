package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/subscription/lifecycle"
)

// ErrNotBounced is returned when reactivating a subscriber who is not
// bounced.
var ErrNotBounced = lifecycle.ErrNotBounced

// MarkBounced records a bounce reported after delivery (a DSN) for the
// subscriber id; changed is false when the subscriber was not active or
// paused (see applyBounce).
func (s *Store) MarkBounced(id uint64, b model.Bounce) (sub model.Subscriber, changed bool, err error) {
	err = s.update(func(tx *bolt.Tx) error {
		sub, err = getSubscriber(tx, id)
		if err != nil {
			return err
		}
		if changed = lifecycle.Bounce(&sub, b); !changed {
			return nil
		}
		return s.putSubscriber(tx, &sub)
	})
	return sub, changed, err
}

// Reactivate undoes the bounce of one subscriber; ErrNotBounced when they
// are not bounced.
func (s *Store) Reactivate(id uint64, now time.Time) (model.Subscriber, error) {
	var sub model.Subscriber
	err := s.update(func(tx *bolt.Tx) error {
		var err error
		if sub, err = getSubscriber(tx, id); err != nil {
			return err
		}
		if err := lifecycle.Unbounce(&sub, now); err != nil {
			return err
		}
		return s.putSubscriber(tx, &sub)
	})
	return sub, err
}

// ReactivateBouncedSince undoes every bounce recorded at or after since
// (a bounce without a time counts from the subscriber's last change) and
// returns the subscribers reactivated, in id order.
func (s *Store) ReactivateBouncedSince(since, now time.Time) ([]model.Subscriber, error) {
	var out []model.Subscriber
	err := s.update(func(tx *bolt.Tx) error {
		out = out[:0]
		sb := tx.Bucket(bucketSubscribers)
		var todo []model.Subscriber
		err := sb.ForEach(func(k, _ []byte) error {
			sub, err := getSubscriber(tx, btoi(k))
			if err != nil {
				return err
			}
			if sub.State != model.StateBounced {
				return nil
			}
			at := sub.Updated
			if sub.Bounce != nil && !sub.Bounce.At.IsZero() {
				at = sub.Bounce.At
			}
			if !at.Before(since) {
				todo = append(todo, sub)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i := range todo {
			if err := lifecycle.Unbounce(&todo[i], now); err != nil {
				return err
			}
			if err := s.putSubscriber(tx, &todo[i]); err != nil {
				return err
			}
		}
		out = todo
		return nil
	})
	return out, err
}

// MarkComplained unsubscribes a subscriber who reported a digest as spam
// (an ARF complaint, RFC 5965); changed is false when they were not
// receiving mail anyway.
func (s *Store) MarkComplained(id uint64, at time.Time) (sub model.Subscriber, changed bool, err error) {
	err = s.update(func(tx *bolt.Tx) error {
		sub, err = getSubscriber(tx, id)
		if err != nil {
			return err
		}
		if changed = lifecycle.Complain(&sub, at); !changed {
			return nil
		}
		return s.putSubscriber(tx, &sub)
	})
	return sub, changed, err
}

// Sent is a ledger line found by its message identifiers.
type Sent struct {
	Date     string
	Delivery model.Delivery
}

// FindSent looks up ledger lines by the Message-ID or X-Entity-Ref-ID of
// the mail they sent, newest run first, and returns those found by key.
// Each run's ledger is read once for all keys.
func (s *Store) FindSent(keys []string) (map[string]Sent, error) {
	want := map[string]bool{}
	for _, k := range keys {
		if k != "" {
			want[k] = true
		}
	}
	out := make(map[string]Sent, len(want))
	if len(want) == 0 {
		return out, nil
	}
	if err := s.foldPending(); err != nil {
		return nil, err
	}
	needles := make([][]byte, 0, len(want))
	for k := range want {
		needles = append(needles, []byte(k))
	}
	err := s.view(func(tx *bolt.Tx) error {
		lb := tx.Bucket(bucketLedger)
		c := lb.Cursor()
		for date, v := c.Last(); date != nil && len(out) < len(want); date, v = c.Prev() {
			if v != nil {
				continue // not a run's bucket
			}
			err := lb.Bucket(date).ForEach(func(k, v []byte) error {
				hit := false
				for _, n := range needles {
					if bytes.Contains(v, n) {
						hit = true
						break
					}
				}
				if !hit {
					return nil
				}
				var d model.Delivery
				if err := json.Unmarshal(v, &d); err != nil {
					return fmt.Errorf("ledger %s line %d unreadable: %w", date, btoi(k), err)
				}
				d.SubscriberID = btoi(k)
				for _, key := range []string{d.MessageID, d.EntityRef} {
					if want[key] {
						if _, seen := out[key]; !seen {
							out[key] = Sent{Date: string(date), Delivery: d}
						}
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// AddSoftBounce counts date as a day of temporary mailbox failure reported
// after delivery (a mailbox-full DSN, say); at limit days the subscriber is
// bounced with b. It reports whether the subscriber became bounced.
func (s *Store) AddSoftBounce(id uint64, date string, limit int, b model.Bounce) (sub model.Subscriber, bounced bool, err error) {
	err = s.update(func(tx *bolt.Tx) error {
		sub, err = getSubscriber(tx, id)
		if err != nil {
			return err
		}
		if sub.State != model.StateActive && sub.State != model.StatePaused {
			return nil
		}
		if !slices.Contains(sub.SoftBounces, date) {
			sub.SoftBounces = append(sub.SoftBounces, date)
		}
		if limit > 0 && len(sub.SoftBounces) >= limit {
			b.Source = model.BounceSoft
			b.Reason = fmt.Sprintf("temporary mailbox failures on %d days, last: %s", len(sub.SoftBounces), b.Reason)
			bounced = lifecycle.Bounce(&sub, b)
		}
		return s.putSubscriber(tx, &sub)
	})
	return sub, bounced, err
}
