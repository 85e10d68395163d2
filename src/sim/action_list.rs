//! An Org's custom actions in the order the cluster lists them, with
//! look-ups by id and by name that do not scan the list, so a write costs
//! O(change) however many actions the cluster holds.
//!
//! Removal leaves a hole that listing skips; holes are swept out once they
//! outnumber the actions, so a delete is amortised O(1) too. In the state
//! file the list is the plain JSON array it always was.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct ActionList {
    slots: Vec<Option<Value>>,
    /// Slot of each action by its id (actions without a string id, which
    /// `validate` refuses, are listed but cannot be looked up).
    by_id: HashMap<String, usize>,
    /// Slots of the actions with each name, in list order.
    by_name: HashMap<String, Vec<usize>>,
    live: usize,
}

fn text<'a>(action: &'a Value, field: &str) -> Option<&'a str> {
    action.get(field).and_then(Value::as_str)
}

impl ActionList {
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The actions in list order.
    pub fn iter(&self) -> impl Iterator<Item = &Value> + Clone {
        self.slots.iter().flatten()
    }

    pub fn to_vec(&self) -> Vec<Value> {
        self.iter().cloned().collect()
    }

    pub fn by_id(&self, id: &str) -> Option<&Value> {
        self.by_id
            .get(id)
            .and_then(|&slot| self.slots[slot].as_ref())
    }

    /// The first action in list order with this name.
    pub fn first_named(&self, name: &str) -> Option<&Value> {
        let slot = *self.by_name.get(name)?.iter().min()?;
        self.slots[slot].as_ref()
    }

    /// Whether an action other than `except_id` has this name.
    pub fn name_taken(&self, name: &str, except_id: Option<&str>) -> bool {
        self.by_name.get(name).is_some_and(|slots| {
            slots.iter().any(|&slot| {
                self.slots[slot]
                    .as_ref()
                    .is_some_and(|a| except_id.is_none() || text(a, "id") != except_id)
            })
        })
    }

    /// Stores `action` in place of the one with its id, else at the end.
    pub fn put(&mut self, action: Value) {
        let existing = text(&action, "id").and_then(|id| self.by_id.get(id).copied());
        match existing {
            Some(slot) => {
                self.unname(slot);
                self.name(slot, &action);
                self.slots[slot] = Some(action);
            }
            None => self.push(action),
        }
    }

    /// Removes the action with this id; false when there is none.
    pub fn remove(&mut self, id: &str) -> bool {
        let Some(slot) = self.by_id.remove(id) else {
            return false;
        };
        self.unname(slot);
        self.slots[slot] = None;
        self.live -= 1;
        if self.slots.len() > 2 * self.live + 16 {
            *self = self.iter().cloned().collect();
        }
        true
    }

    fn push(&mut self, action: Value) {
        let slot = self.slots.len();
        if let Some(id) = text(&action, "id") {
            // A duplicate id (refused by `validate`) keeps the first.
            self.by_id.entry(id.to_string()).or_insert(slot);
        }
        self.name(slot, &action);
        self.slots.push(Some(action));
        self.live += 1;
    }

    fn name(&mut self, slot: usize, action: &Value) {
        if let Some(name) = text(action, "name") {
            self.by_name.entry(name.to_string()).or_default().push(slot);
        }
    }

    fn unname(&mut self, slot: usize) {
        let Some(name) = self.slots[slot].as_ref().and_then(|a| text(a, "name")) else {
            return;
        };
        if let Some(slots) = self.by_name.get_mut(name) {
            slots.retain(|&s| s != slot);
            if slots.is_empty() {
                self.by_name.remove(name);
            }
        }
    }
}

impl FromIterator<Value> for ActionList {
    fn from_iter<I: IntoIterator<Item = Value>>(actions: I) -> Self {
        let mut list = ActionList::default();
        for action in actions {
            list.push(action);
        }
        list
    }
}

impl From<Vec<Value>> for ActionList {
    fn from(actions: Vec<Value>) -> Self {
        actions.into_iter().collect()
    }
}

impl PartialEq for ActionList {
    fn eq(&self, other: &Self) -> bool {
        self.live == other.live && self.iter().eq(other.iter())
    }
}

impl Serialize for ActionList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for ActionList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<Value>::deserialize(deserializer).map(ActionList::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids(list: &ActionList) -> Vec<&str> {
        list.iter().filter_map(|a| text(a, "id")).collect()
    }

    #[test]
    fn keeps_list_order_through_puts_and_removes() {
        let mut list: ActionList = (0..5)
            .map(|i| json!({"id": format!("a{i}"), "name": format!("n{i}")}))
            .collect();
        list.put(json!({"id": "a2", "name": "renamed"}));
        assert!(list.remove("a1"));
        assert!(!list.remove("a1"), "removing twice finds nothing");
        list.put(json!({"id": "a9", "name": "n9"}));
        assert_eq!(ids(&list), ["a0", "a2", "a3", "a4", "a9"]);
        assert_eq!(list.len(), 5);
        assert_eq!(list.by_id("a2").unwrap()["name"], "renamed");
        assert!(list.by_id("a1").is_none());
        assert!(!list.name_taken("n2", None), "the old name is free");
        assert!(list.name_taken("renamed", None));
        assert!(!list.name_taken("renamed", Some("a2")), "its own name");
        assert_eq!(
            serde_json::to_value(&list).unwrap(),
            json!([
                {"id": "a0", "name": "n0"},
                {"id": "a2", "name": "renamed"},
                {"id": "a3", "name": "n3"},
                {"id": "a4", "name": "n4"},
                {"id": "a9", "name": "n9"},
            ])
        );
    }

    #[test]
    fn many_removes_sweep_the_holes_and_keep_the_index() {
        let mut list: ActionList = (0..100)
            .map(|i| json!({"id": format!("a{i}"), "name": format!("n{}", i % 7)}))
            .collect();
        for i in (0..100).filter(|i| i % 10 != 0) {
            assert!(list.remove(&format!("a{i}")));
        }
        assert!(list.slots.len() <= 2 * list.len() + 16, "holes swept");
        assert_eq!(
            ids(&list),
            (0..100)
                .step_by(10)
                .map(|i| format!("a{i}"))
                .collect::<Vec<_>>()
        );
        assert_eq!(list.by_id("a30").unwrap()["name"], "n2");
        assert_eq!(list.first_named("n3").unwrap()["id"], "a10");
        assert!(list.remove("a10"));
        assert_eq!(list.first_named("n3").unwrap()["id"], "a80");
        assert!(list.first_named("n9").is_none());
        let back: ActionList =
            serde_json::from_value(serde_json::to_value(&list).unwrap()).unwrap();
        assert_eq!(back, list);
    }
}
