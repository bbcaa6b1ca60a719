//! From the shipping rules' plan to what a carrier connector is asked for.

use tovor_runtime::model;

/// A shipment plan as the carrier connector's request.
pub fn shipment_request(plan: &tovor_domain::shipping::ShipmentPlan) -> model::ShipmentRequest {
    model::ShipmentRequest {
        reference: plan.reference.clone(),
        sender: plan.sender.clone(),
        recipient: plan.recipient.clone(),
        parcels: plan
            .parcels
            .iter()
            .map(|parcel| model::Parcel {
                weight_grams: parcel.weight_grams,
                length_mm: parcel.length_mm,
                width_mm: parcel.width_mm,
                height_mm: parcel.height_mm,
            })
            .collect(),
        cash_on_delivery: plan
            .cash_on_delivery
            .as_ref()
            .map(|cod| model::CashOnDelivery {
                amount: cod.amount,
                currency: cod.currency.clone(),
                reference: Some(cod.reference.clone()),
            }),
        pickup_point: plan.pickup_point.clone(),
        services: plan.services.clone(),
        value: Some(plan.value),
        currency: Some(plan.currency.clone()),
        note: plan.note.clone(),
    }
}
