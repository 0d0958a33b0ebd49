package store

import (
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

// ErrNoConfirmation means no confirmation waits for the subscriber, or the
// one that waits has another nonce (a link of an older request).
var ErrNoConfirmation = errors.New("no confirmation pending")

// Subscribe stores a subscribe request in one commit (shared with
// concurrent callers by bbolt's Batch): the confirmation c and the mail
// that asks for it. A new subscriber (sub.ID 0) is created with it; an
// address already on the list is ErrExists. For an existing subscriber
// (sub.ID set) only c and the mail are written: the subscriber's record is
// left as it is until the confirmation is confirmed. mail is called once
// the subscriber has its id (its link names it); it may run more than once
// and must have no side effects.
func (s *Store) Subscribe(sub *model.Subscriber, c *model.Confirmation, mail func(*model.Subscriber) (*OutboxItem, error)) error {
	// bbolt runs the function of a failed batch again on its own: a new
	// subscriber is new on every run, whatever id an earlier run gave it.
	isNew := sub.ID == 0
	return s.batch(func(tx *bolt.Tx) error {
		sb, eb := tx.Bucket(bucketSubscribers), tx.Bucket(bucketEmails)
		if !isNew {
			if sb.Get(u64(sub.ID)) == nil {
				return fmt.Errorf("subscriber %d: %w", sub.ID, ErrNotFound)
			}
		} else {
			if eb.Get([]byte(sub.Email)) != nil {
				return fmt.Errorf("subscriber %s: %w", sub.Email, ErrExists)
			}
			id, err := sb.NextSequence()
			if err != nil {
				return err
			}
			sub.ID = id
			if err := s.putSubscriber(tx, sub); err != nil {
				return err
			}
			if err := eb.Put([]byte(sub.Email), u64(sub.ID)); err != nil {
				return err
			}
		}
		c.SubscriberID = sub.ID
		if err := putConfirmation(tx, c); err != nil {
			return err
		}
		item, err := mail(sub)
		if err != nil || item == nil {
			return err
		}
		item.SubscriberID = sub.ID
		return putOutbox(tx, item)
	})
}

// Confirmation returns the confirmation waiting for subscriber id:
// ErrNoConfirmation when there is none.
func (s *Store) Confirmation(id uint64) (model.Confirmation, error) {
	var c model.Confirmation
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		c, err = getConfirmation(tx, id)
		return err
	})
	return c, err
}

// Confirm applies the confirmation of subscriber id with nonce in one
// transaction: apply edits the subscriber with the confirmation's values,
// the record is written and the confirmation deleted, so its link cannot
// be used again. A missing confirmation or another nonce is
// ErrNoConfirmation; when apply fails nothing is written. mail, when not
// nil, makes a mail queued in the same transaction (the welcome mail).
func (s *Store) Confirm(id uint64, nonce string, apply func(*model.Subscriber, *model.Confirmation) error, mail func(*model.Subscriber) (*OutboxItem, error)) (model.Subscriber, error) {
	var out model.Subscriber
	err := s.update(func(tx *bolt.Tx) error {
		c, err := getConfirmation(tx, id)
		if err != nil {
			return err
		}
		if c.Nonce != nonce {
			return fmt.Errorf("subscriber %d: %w", id, ErrNoConfirmation)
		}
		sub, err := getSubscriber(tx, id)
		if err != nil {
			return err
		}
		email := sub.Email
		if err := apply(&sub, &c); err != nil {
			return err
		}
		sub.ID, sub.Email = id, email
		if err := s.putSubscriber(tx, &sub); err != nil {
			return err
		}
		if out, err = getSubscriber(tx, id); err != nil {
			return err
		}
		if err := tx.Bucket(bucketConfirm).Delete(u64(id)); err != nil {
			return err
		}
		if mail == nil {
			return nil
		}
		item, err := mail(&out)
		if err != nil || item == nil {
			return err
		}
		item.SubscriberID = out.ID
		return putOutbox(tx, item)
	})
	return out, err
}

func getConfirmation(tx *bolt.Tx, id uint64) (model.Confirmation, error) {
	var c model.Confirmation
	b := tx.Bucket(bucketConfirm)
	var v []byte
	if b != nil {
		v = b.Get(u64(id))
	}
	if v == nil {
		return c, fmt.Errorf("subscriber %d: %w", id, ErrNoConfirmation)
	}
	if err := json.Unmarshal(v, &c); err != nil {
		return c, fmt.Errorf("confirmation of subscriber %d unreadable: %w", id, err)
	}
	return c, nil
}

func putConfirmation(tx *bolt.Tx, c *model.Confirmation) error {
	buf, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketConfirm).Put(u64(c.SubscriberID), buf)
}
