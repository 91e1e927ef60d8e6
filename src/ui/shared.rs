//! `Shared<T>`: an `Rc` whose equality is identity, so a new snapshot re-renders its views and
//! an unchanged one costs a pointer comparison.

use std::ops::Deref;
use std::rc::Rc;

pub struct Shared<T>(pub Rc<T>);

impl<T> Shared<T> {
    pub fn new(value: T) -> Self {
        Shared(Rc::new(value))
    }
}

impl<T: Clone> Shared<T> {
    /// A copy of the value with `change` applied, as a new `Shared`, so that the views showing
    /// it redraw (changing it in place would keep the identity and hide the change).
    pub fn changed(&self, change: impl FnOnce(&mut T)) -> Self {
        let mut value = T::clone(&self.0);
        change(&mut value);
        Shared::new(value)
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Rc::clone(&self.0))
    }
}

impl<T> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}
