"""FAQ pages: topics, questions and answer building blocks.

Policy topics repeat on many pages, product topics name a product, so answers draw on several pools
of sentences with slots (days price carrier country hours n product noun brand accessory device
version) to stay far apart in word 3-gram Jaccard.
"""

from __future__ import annotations

from llmops.sample_data.grammar import templates

# topic -> (page title, questions, answer sentences, list items)
POLICY_TOPICS = {
    "shipping": (
        "Shipping &amp; delivery",
        templates(
            "How long does [standard|express|next-day] delivery to {country} take?",
            "Can I change the delivery address after [ordering|my order has shipped]?",
            "Which carriers deliver [{noun}|large|heavy] orders to {country}?",
            "Do you deliver to [parcel lockers|pickup points|PO boxes] in {country}?",
            "What happens if I miss the {carrier} delivery?",
            "[Is|Why is] shipping [free|not free] for orders under {price}?",
        ),
        templates(
            "[Standard|Regular] delivery to {country} [takes|usually takes] {days} working days, [express|"
            "priority] [arrives|gets there] in [one to two|two] days.",
            "Orders placed before {hours}:00 [ship|leave our warehouse] the same day[, weekends excluded|].",
            "{carrier} [tries|attempts] delivery [twice|up to three times] and then [keeps the parcel|holds "
            "it] "
            "at the nearest [pickup point|depot] for {days} days.",
            "You can [change|update] the address [in your account|on the order page] [until the parcel|as "
            "long "
            "as the order] [is handed to|has not reached] {carrier}.",
            "Shipping is free [above|for orders over] {price}; below that we charge a flat [fee|rate] [that "
            "you see at checkout|shown in the basket].",
            "[Bulky items|Large items such as TVs] travel with a [freight|two-person] service that [calls|"
            "phones] you [the day before|to book a slot].",
        ),
        templates(
            "Track the parcel with the link in your confirmation e-mail",
            "[Ask|Tell] {carrier} to [redirect|hold] the parcel",
            "Pick a delivery day at checkout",
            "Choose a [locker|pickup point] near you",
            "Keep your phone nearby on delivery day",
        ),
    ),
    "returns": (
        "Returns &amp; refunds",
        templates(
            "How many days do I have to return [a|an opened|a used] {noun}?",
            "Is the return [free|paid] when I send back [a|the] {noun} from {country}?",
            "When do I get my [money|refund] back [after a return|for a returned {noun}]?",
            "Can I return [an item|a {noun}] [bought in a sale|without the original box|that was a gift]?",
            "How do I [print|get] a return label for {carrier}?",
        ),
        templates(
            "You [have|get] {days} days from delivery to return [any item|most items], [opened or not|even "
            "if "
            "opened].",
            "Returns from {country} are [free|free of charge] with the prepaid {carrier} label[ from your "
            "account|].",
            "[The refund|Your refund] is [issued|sent] within {days} days after the parcel [reaches|arrives "
            "at] "
            "our warehouse.",
            "[Sale items|Discounted items] follow the same [rules|return policy]; [gifts|presents] are "
            "refunded "
            "as a voucher[ to the recipient|].",
            "[We|Our team] [inspect|check] every returned {noun} and [refund|pay back] the full {price} if "
            "[nothing is missing|all accessories are in the box].",
        ),
        templates(
            "Open Orders in your account",
            "Select the item and [the reason|a reason] for the return",
            "Print the label or show the QR code at a {carrier} point",
            "Pack the item with all accessories",
            "Keep the drop-off receipt until the refund arrives",
        ),
    ),
    "warranty": (
        "Warranty &amp; repairs",
        templates(
            "How long is the warranty on [a|my] {noun}?",
            "Does the warranty cover [water damage|a cracked screen|battery wear] on the {noun}?",
            "How do I [register|claim] the [warranty|extended warranty] for a {brand} product?",
            "[Who pays|Do I pay] for shipping when I send a {noun} for repair?",
            "How long does a warranty repair [take|usually take]?",
        ),
        templates(
            "Every {noun} comes with a [two-year|24-month] warranty[, extendable to {n} years|].",
            "[Accidental damage|Water damage and cracked screens] [is|are] not covered, [but|however] we "
            "offer "
            "[paid repairs|a repair quote] [at fair prices|within {days} days].",
            "[Batteries|The battery] [is|are] covered [if capacity drops below|when it holds less than] {n}0 "
            "percent [within the warranty period|in the first year].",
            "[Repairs|A repair] [take|takes] [about|roughly] {days} working days [plus shipping|from "
            "arrival].",
            "We [pay|cover] shipping both ways [for warranty claims|when the fault is covered].",
        ),
        templates(
            "Find the serial number on the box or under the device",
            "Describe the fault in a few words",
            "Attach a copy of the invoice",
            "Wait for the prepaid {carrier} label",
            "[Back up|Save] your data before sending the device",
        ),
    ),
    "payments": (
        "Payments &amp; invoices",
        templates(
            "Which payment methods [do you accept|can I use] in {country}?",
            "[Can|May] I pay [in instalments|by invoice|with a gift card] for orders over {price}?",
            "Why was my card charged [twice|before shipping]?",
            "Where do I find the invoice for [my order|a {noun} I bought]?",
        ),
        templates(
            "We accept [cards, PayPal and bank transfer|cards and PayPal|most cards and wallets] [in "
            "{country}|"
            "for all orders].",
            "[Instalments|Paying in instalments] [is|are] available [above|for orders over] {price} [with no "
            "fees|over {n} months].",
            "[A second charge|A duplicate] is [usually|normally] a [pending authorisation|card hold] [that "
            "disappears|released] within {days} days.",
            "The invoice [is attached to|comes with] the shipping e-mail and [stays|is also] [in your "
            "account|"
            "under Orders].",
        ),
        templates(
            "Open Orders in your account",
            "Click Download invoice",
            "Check the payment status on the order page",
            "Contact your bank if the hold stays",
        ),
    ),
}
# worked examples naming a product: a policy answer quotes one so that pages on the same topic differ
POLICY_EXAMPLES = {
    "shipping": templates(
        "For example, [a|the] {product} ordered [on|before noon on] {weekday} [usually |]reaches {country} "
        "[within {days} days|by {weekday}] with {carrier}.",
        "[A typical order|An order] such as the {product} ({price}) [ships|travels] with {carrier} and can "
        "be "
        "tracked [from the moment it leaves|once it leaves] our warehouse.",
    ),
    "returns": templates(
        "For example, [returning|sending back] [a|the] {product} bought for {price} [gets you|means] the "
        "full "
        "{price} back [within {days} days|once it arrives].",
        "[Say|Suppose] you [return|send back] the {product} from {country}: [print the {carrier} label|drop "
        "it "
        "at a {carrier} point] and [track the refund|watch the status] in your account.",
    ),
    "warranty": templates(
        "For example, the {product} is covered for [two years|24 months] and [a battery fault|a dead pixel|a "
        "broken port] is [repaired|fixed] [within {days} working days|free of charge].",
        "[Claims|A claim] for the {product} [need|needs] the serial number and the invoice of {price} [from "
        "your account|as a PDF].",
    ),
    "payments": templates(
        "For example, the {product} at {price} can be paid [in {n} monthly instalments|by card or PayPal|by "
        "invoice within {days} days].",
        "[An order|A purchase] of {price} [such as the {product}|for the {product}] [shows|appears] on your "
        "statement as {shop} [within {hours} hours|the same day].",
    ),
}

PRODUCT_TITLES = templates(
    "{product}: [help|questions] &amp; answers",
    "{product} &ndash; FAQ",
    "Help centre: {product}",
    "Getting started with the {product}",
)
PRODUCT_QUESTIONS = templates(
    "How do I [reset|restart|factory reset] the {product}?",
    "How do I [pair|connect] the {noun} with my {device}?",
    "How do I update the firmware of the {noun}[ to {version}|]?",
    "[Why does|What should I do when] the {noun} [not turn on|keep restarting|not charge]?",
    "How do I clean the {noun} [safely|without damaging it]?",
    "What is [in the box|included] with the {product}?",
    "Can I use the {noun} [with two devices|while it charges|abroad]?",
    "How [long|many hours] does the {noun} [last|run] on a [full charge|charge]?",
    "[Where|How] do I find the serial number of my {noun}?",
    "Why is the {noun} [so warm|getting hot|blinking [red|orange]]?",
    "Is the {product} compatible with [my {device}|the {brand} app|older models]?",
    "How do I [turn off|dim] the [status light|indicator light|sounds] on the {noun}?",
)
PRODUCT_ANSWERS = templates(
    "[Hold|Press and hold] the [power|reset|pairing] button for {n} seconds [until the light blinks|until "
    "you hear a tone|while the {noun} is charging].",
    "Open the {brand} app on your {device}, [go to|tap] [Settings|Device settings|Add device] and [follow "
    "the "
    "steps|choose the {noun}].",
    "Firmware {version} [adds|brings] [better battery life|a more stable connection|new settings] and "
    "installs "
    "[automatically|overnight] when the {noun} is [charging|connected to Wi-Fi].",
    "[Charge|Let] the {noun} [for at least|for] {n}0 minutes [before the first use|after a deep discharge]; "
    "a "
    "[blinking|flashing] light means [it is charging|the battery is very low].",
    "[Wipe|Clean] the {noun} with a [dry|slightly damp] cloth; [never|do not] use [alcohol|solvents|"
    "compressed air] [on the ports|near the openings].",
    "The box [contains|includes] the {noun}, the {accessory} and a quick start guide.",
    "[The serial number|It] is [printed on a sticker|on the label] [under the {noun}|inside the cover|on the "
    "original box].",
    "[Battery life|Runtime] is [about|up to] {hours} hours [at medium volume|with default settings|in normal "
    "use][, less with the lights on|].",
    "The {noun} works with [most|all current] [phones|devices] including the {device}[, older models may "
    "need an update|].",
    "[Slight warmth|Some warmth] [while charging|under load] is normal; [stop using it|unplug it] if it "
    "[gets too hot to touch|smells of burning].",
)
PRODUCT_STEPS = templates(
    "Unplug the {noun} and wait {n} seconds",
    "Install the latest {brand} app",
    "Turn on Bluetooth on your {device}",
    "Hold the pairing button until the light blinks",
    "Select the {noun} in the list",
    "Keep the {noun} close to the router",
    "Plug in the {accessory}",
    "Restart your {device}",
    "Check for firmware {version}",
    "Remove the {noun} from the list of paired devices",
)
NOTES = templates(
    "[Still stuck?|Need more help?] [Our support team|We] [answer|reply] within {hours} hours.",
    "[Tip|Good to know]: [keep|store] the original box for [returns|warranty claims].",
    "This answer applies to [all|current] {brand} [models|devices] [sold since|from] {version}.",
)
NAV_LINKS = ("Home", "Shop", "Deals", "Help centre", "Track order", "Returns", "Contact", "My account")
FOOTER_HEADINGS = ("Need more help?", "Customer service", "About us", "Stay in touch")
