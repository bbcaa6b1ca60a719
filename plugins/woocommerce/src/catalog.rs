//! Products and their variations, with the stock keys stock pushes take back.

use tovor_sdk::shop::ProductPage;
use tovor_sdk::types::ConnectorError;

use crate::api::{self, Api, next_page};
use crate::woo;

/// Stable paging while products are added: by id, oldest first.
const PRODUCT_ORDER: [(&str, &str); 2] = [("orderby", "id"), ("order", "asc")];

fn product_query() -> Vec<(&'static str, String)> {
    PRODUCT_ORDER
        .iter()
        .map(|(name, value)| (*name, (*value).to_owned()))
        .collect()
}

/// One page of products, each variable product with all its variations (their first
/// pages fetched at once).
pub fn list_products(api: &Api, page: usize) -> Result<ProductPage, ConnectorError> {
    let query = product_query();
    let response = api.get("/products", &api::paged(&query, page))?;
    let listed: Vec<woo::WooProduct> = response.json()?;
    let variable: Vec<usize> = listed
        .iter()
        .enumerate()
        .filter(|(_, product)| product.kind == "variable")
        .map(|(index, _)| index)
        .collect();
    let path = |index: usize| format!("/products/{}/variations", listed[index].id);
    let requests = variable
        .iter()
        .map(|index| api.request("GET", &path(*index), &api::paged(&query, 1), None))
        .collect();
    let mut variations: Vec<Vec<woo::WooProduct>> = listed.iter().map(|_| Vec::new()).collect();
    for (index, answer) in variable.iter().zip(api.send_all(requests)) {
        let first =
            answer.map_err(|error| error.context(format!("product {}", listed[*index].id)))?;
        variations[*index] = api.rest_of(&first, &path(*index), &query)?;
    }
    Ok(ProductPage {
        next_cursor: next_page(&response, page),
        products: listed
            .iter()
            .zip(&variations)
            .map(|(product, variations)| woo::map_product(product, variations))
            .collect(),
    })
}
